/**
 * runs.csv and metrics.csv read back by an independent parser (Python's
 * `csv` module, in a subprocess): the quick start's plan gives 4 rows with
 * its axis, seed and metric columns, and every value of every
 * `metrics.jsonl` is found in metrics.csv.
 */
import assert from "node:assert/strict";
import { writeManifest } from "./sweep.ts";
import type { MetricsLine, StatusRecord } from "../contract/results.ts";
import { loadExperiment } from "./loader.ts";
import { main as reportMain } from "../cli/report.ts";
import { csvField, toCsv } from "../report/csv.ts";
import { quietly } from "./experiment_test_support.ts";

const QUICKSTART = new URL("../../experiments/quickstart.ts", import.meta.url).pathname;

/** Parses CSV files with Python's csv module; returns each file as its rows of fields. */
async function pythonCsv(...paths: string[]): Promise<string[][][]> {
  const script = "import csv, json, sys\n" +
    "out = []\n" +
    "for p in sys.argv[1:]:\n" +
    "    with open(p, newline='', encoding='utf-8') as f:\n" +
    "        out.append([row for row in csv.reader(f, strict=True)])\n" +
    "print(json.dumps(out))\n";
  const python = ["/usr/bin/python3", "python3"];
  for (const exe of python) {
    try {
      const r = await new Deno.Command(exe, { args: ["-c", script, ...paths] }).output();
      if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
      return JSON.parse(new TextDecoder().decode(r.stdout));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error("python3 not found: the CSV test reads the files back with Python's csv module");
}

Deno.test("csvField quotes commas, quotes and line breaks only", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField(undefined), "");
  assert.equal(csvField(0.1 + 0.2), "0.30000000000000004");
  assert.equal(toCsv(["a", "b"], [{ a: 1 }]), "a,b\r\n1,\r\n");
});

Deno.test("runs.csv and metrics.csv of the quick start read back with Python's csv module", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-csv-" });
  const loaded = await loadExperiment(QUICKSTART, { resultsRoot: root });
  await writeManifest(loaded.experimentDir, loaded.plan.manifest);
  // Recorded results for the quick start's 4 runs, with values a CSV writer must take care of.
  const lines: Record<string, MetricsLine[]> = {};
  for (const [i, run] of loaded.plan.runs.entries()) {
    const dir = `${loaded.experimentDir}/runs/${run.id}`;
    await Deno.mkdir(dir, { recursive: true });
    const ls: MetricsLine[] = [];
    for (let step = 5; step <= 20; step += 5) {
      ls.push({
        step,
        epoch: step / 20,
        split: "train",
        time: step * 0.0123456789 + i,
        loss: 2.5 / step + i * 1e-9,
        lr: 1e-3 * step,
        itemsPerS: 1000 + step,
      });
    }
    ls.push({
      step: 20,
      epoch: 1,
      split: "val",
      time: 1.5,
      loss: 0.1 + 0.2,
      exact_match: i / 3,
      token_accuracy: 1 - 1e-17 * i,
      note: i === 0 ? 'a "quoted", comma\nand a line break' : "ok",
    });
    lines[run.id] = ls;
    await Deno.writeTextFile(`${dir}/metrics.jsonl`, ls.map((l) => JSON.stringify(l)).join("\n"));
    // a NaN loss as it is recorded (JSON has no NaN): null
    if (i === 3) {
      await Deno.writeTextFile(
        `${dir}/metrics.jsonl`,
        `\n{"step":25,"epoch":1.25,"split":"train","time":2,"loss":null}\n`,
        { append: true },
      );
      lines[run.id].push(
        { step: 25, epoch: 1.25, split: "train", time: 2, loss: null } as unknown as MetricsLine,
      );
    }
    const status: StatusRecord = i === 3 ? { state: "diverged", step: 25, error: "loss NaN" } : {
      state: "done",
      step: 20,
      trainSeconds: 1.25 + i,
      parameters: 86091,
      final: {
        "test/exact_match": i / 3,
        "test/token_accuracy": 0.9,
        "val/loss": 0.1 + 0.2,
      },
    };
    await Deno.writeTextFile(`${dir}/status.json`, JSON.stringify(status));
  }

  assert.equal(await quietly(() => reportMain(["--csv", loaded.experimentDir])), 0);
  const runsPath = `${loaded.experimentDir}/runs.csv`;
  const metricsPath = `${loaded.experimentDir}/metrics.csv`;
  await assert.rejects(Deno.stat(`${loaded.experimentDir}/report.html`), Deno.errors.NotFound);
  const [runs, metrics] = await pythonCsv(runsPath, metricsPath);

  // runs.csv: the documented columns, one row per run
  assert.deepEqual(runs[0], [
    "run",
    "variant",
    "model.positional",
    "seed",
    "status",
    "backend",
    "steps",
    "train_seconds",
    "parameters",
    "test/exact_match",
    "test/token_accuracy",
    "val/loss",
  ]);
  assert.equal(runs.length - 1, 4);
  const byId = new Map(runs.slice(1).map((r) => [r[0], r]));
  for (const [i, run] of loaded.plan.runs.entries()) {
    const r = byId.get(run.id)!;
    assert.ok(r, `run ${run.id} in runs.csv`);
    assert.equal(r[2], run.config.model.positional);
    assert.equal(Number(r[3]), run.seed);
    assert.equal(r[4], i === 3 ? "diverged" : "done");
    if (i < 3) {
      assert.equal(Number(r[7]), 1.25 + i);
      assert.equal(Number(r[9]), i / 3);
      assert.equal(Number(r[11]), 0.1 + 0.2);
    } else assert.deepEqual(r.slice(7), ["", "", "", "", ""]);
  }

  // metrics.csv: every value of every metrics.jsonl, exactly
  // the documented header, written out (not the library's constant, so a changed header fails)
  assert.deepEqual(metrics[0], ["run", "step", "epoch", "split", "metric", "value"]);
  const found = new Map<string, string>();
  for (const row of metrics.slice(1)) {
    assert.equal(row.length, 6, `row ${JSON.stringify(row)}`);
    found.set(row.slice(0, 5).join("\u0000"), row[5]);
  }
  let values = 0;
  for (const [id, ls] of Object.entries(lines)) {
    for (const l of ls) {
      for (const [k, v] of Object.entries(l)) {
        if (k === "step" || k === "epoch" || k === "split") continue;
        const key = [id, String(l.step), String(l.epoch), l.split, k].join("\u0000");
        assert.ok(found.has(key), `metrics.csv has ${id} step ${l.step} ${l.split} ${k}`);
        const got = found.get(key)!;
        if (typeof v === "number") assert.equal(Number(got), v, `${id} ${l.step} ${k}`);
        else if (v === null) assert.equal(got, "");
        else assert.equal(got, v);
        values++;
      }
    }
  }
  assert.equal(values, metrics.length - 1, "no row in metrics.csv that metrics.jsonl lacks");
  await Deno.remove(root, { recursive: true });
});
