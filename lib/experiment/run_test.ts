import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { main } from "../cli/exp.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { clipGlobalNorm, clipGlobalNormOnDevice, setDeferredLossReads } from "../train/loop.ts";
import { appendLines, countLines, truncateLines } from "../util/atomic.ts";
import { WORKER_PERMISSIONS } from "./sweep.ts";
import {
  quietly,
  runDirs,
  runMetrics,
  runStatus,
  writeDummyExperiment,
} from "./experiment_test_support.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Writes a dummy-task experiment into a fresh folder; returns the file and a results root. */
function experiment(body: string): Promise<{ dir: string; file: string; results: string }> {
  return writeDummyExperiment(
    `  backend: "cpu",
  train: { lr: { schedule: "constant", value: 0.05 }, logEvery: 2 },
${body}`,
    "fuselab-run-",
  );
}

/** Runs the CLI in this process, quietly; returns its exit status. */
function exp(...args: string[]): Promise<number> {
  return quietly(() => main([...args, "--plain", "--no-report"]));
}

/** Every file of a folder → its bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else out.set(p, Array.from(await Deno.readFile(p)).join(","));
    }
  };
  await walk(dir);
  return out;
}

Deno.test("atomic: truncateLines drops later lines and a partial last line", async () => {
  const dir = await Deno.makeTempDir();
  const f = `${dir}/m.jsonl`;
  await appendLines(f, ["a", "b", "c"]);
  await Deno.writeTextFile(f, '{"partial', { append: true });
  assert.equal(await countLines(f), 3);
  await truncateLines(f, 2);
  assert.equal(await Deno.readTextFile(f), "a\nb\n");
  await assert.rejects(truncateLines(f, 5), /has 2 complete lines, the checkpoint expects 5/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: writes the results layout, and the same config and seed give identical metrics", async () => {
  const { dir, file, results } = await experiment(`  name: "det",
  task: { name: "dummy_linear" },
  train: { epochs: 3, lr: { schedule: "constant", value: 0.05 }, logEvery: 2, checkpointEvery: 1 },
  axes: { "task.dim": [3, 5] },
  seeds: [0, 1],`);
  const tensors = tf.memory().numTensors;
  assert.equal(await exp(file, "--results", results), 0);
  assert.equal(tf.memory().numTensors, tensors, "a sweep frees every tensor it made");
  assert.equal(await exp(file, "--results", `${results}2`), 0);
  const a = await runDirs(file, results), b = await runDirs(file, `${results}2`);
  assert.equal(a.dirs.length, 4);
  const manifest = JSON.parse(await Deno.readTextFile(`${a.loaded.experimentDir}/manifest.json`));
  assert.deepEqual(
    manifest.runs.map((r: { id: string }) => r.id),
    a.loaded.plan.runs.map((r) => r.id),
  );
  assert.deepEqual(manifest.primary, { metric: "test/mse", higherIsBetter: false });
  for (let i = 0; i < 4; i++) {
    for (
      const f of [
        "config.json",
        "env.json",
        "metrics.jsonl",
        "status.json",
        "checkpoint.safetensors",
        "artifacts/weights.json",
      ]
    ) {
      await Deno.stat(`${a.dirs[i]}/${f}`);
    }
    const m = await runMetrics(a.dirs[i]);
    assert.deepEqual(m, await runMetrics(b.dirs[i]), `run ${i}: metrics differ between two runs`);
    // 3 epochs × 4 steps, a train line every 2 steps, val after epochs 1, 2, 3, test at the end.
    assert.deepEqual(m.map((l) => `${l.split}@${l.step}`), [
      "train@2",
      "train@4",
      "val@4",
      "train@6",
      "train@8",
      "val@8",
      "train@10",
      "train@12",
      "val@12",
      "test@12",
    ]);
    const s = await runStatus(a.dirs[i]);
    assert.equal(s.state, "done");
    assert.equal(s.step, 12);
    assert.equal(s.attempts, 1);
    assert.equal(typeof s.final?.["test/mse"], "number");
    assert.equal(s.final?.["test/mse"], m[m.length - 1].mse);
  }
  // Different seeds differ.
  assert.notDeepEqual(await runMetrics(a.dirs[0]), await runMetrics(a.dirs[1]));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: a NaN loss marks the run diverged with its step, and the sweep goes on", async () => {
  const { dir, file, results } = await experiment(`  name: "nan",
  task: { name: "dummy_linear" },
  train: { epochs: 2, lr: { schedule: "constant", value: 0.05 } },
  axes: { "task.nanAtStep": [3, 1000] },`);
  assert.equal(await exp(file, "--results", results), 0);
  const { dirs } = await runDirs(file, results);
  const bad = await runStatus(dirs[0]);
  assert.equal(bad.state, "diverged");
  assert.match(bad.error ?? "", /training loss became NaN at step 3 \(epoch 1/);
  assert.equal((await runStatus(dirs[1])).state, "done");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: a loss exploding but finite marks the run diverged (train.divergeFactor)", async () => {
  const { dir, file, results } = await experiment(`  name: "explode",
  task: { name: "dummy_linear" },
  train: { epochs: 2, lr: { schedule: "constant", value: 1000000 }, logEvery: 1 },
  axes: { "train.divergeFactor": [100, 1e300] },`);
  assert.equal(await exp(file, "--results", results), 0);
  const { dirs } = await runDirs(file, results);
  const byDefault = await runStatus(dirs[0]);
  assert.equal(byDefault.state, "diverged");
  assert.match(
    byDefault.error ?? "",
    /training loss became [\d.e+]+ at step 2 \(epoch 1, lr 1000000\): over 100× the first loss [\d.e+-]+ \(train\.divergeFactor\)/,
  );
  // A laxer rule lets the same run go on: only a NaN or infinite loss would stop it.
  const lax = await runStatus(dirs[1]);
  assert.equal(lax.state, "done");
  assert.ok(lax.final!["train/loss"] > 1e6, String(lax.final!["train/loss"]));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: losses read only when logging (as on webgpu) give the same lines and the same divergence step", async () => {
  const body = `  name: "deferred",
  task: { name: "dummy_linear" },
  train: { epochs: 3, lr: { schedule: "constant", value: 0.05 }, logEvery: 3 },
  axes: { "task.nanAtStep": [5, 1000] },`;
  const lines: Record<string, unknown>[][][] = [];
  const errors: (string | undefined)[] = [];
  for (const deferred of [false, true]) {
    setDeferredLossReads(deferred);
    try {
      const { dir, file, results } = await experiment(body);
      assert.equal(await exp(file, "--results", results), 0);
      const { dirs } = await runDirs(file, results);
      lines.push(await Promise.all(dirs.map(runMetrics)));
      errors.push((await runStatus(dirs[0])).error);
      assert.equal((await runStatus(dirs[0])).state, "diverged");
      assert.equal((await runStatus(dirs[1])).state, "done");
      await Deno.remove(dir, { recursive: true });
    } finally {
      setDeferredLossReads(undefined);
    }
  }
  assert.match(errors[1] ?? "", /training loss became NaN at step 5 \(epoch /);
  assert.equal(errors[1], errors[0], "the same step, epoch and rate");
  assert.deepEqual(lines[1], lines[0], "the same metrics lines, logged losses included");
});

Deno.test("clipGlobalNormOnDevice scales like clipGlobalNorm without reading the norm", async () => {
  const make = () => ({ a: tf.tensor([3, 4]), b: tf.tensor([[12]]), c: tf.tensor([0.5]) });
  for (const maxNorm of [1, 100]) {
    const host = make(), dev = make();
    await clipGlobalNorm(host, maxNorm);
    clipGlobalNormOnDevice(dev, maxNorm);
    for (const k of ["a", "b", "c"] as const) {
      const h = Array.from(await host[k].data()), d = Array.from(await dev[k].data());
      h.forEach((x, i) => assert.ok(Math.abs(x - d[i]) <= 1e-6 * Math.max(1, Math.abs(x)), `${k}`));
    }
    tf.dispose([...Object.values(host), ...Object.values(dev)]);
  }
});

Deno.test("runner: failed runs are kept unless --retry-failed; --force restarts a run", async () => {
  const { dir, file, results } = await experiment(`  name: "fail",
  task: { name: "dummy_linear" },
  train: { epochs: 1, lr: { schedule: "constant", value: 0.05 } },
  axes: { "task.fail": [false, true] },`);
  assert.equal(await exp(file, "--results", results), 1);
  const { dirs, loaded } = await runDirs(file, results);
  const failed = await runStatus(dirs[1]);
  assert.equal(failed.state, "failed");
  assert.match(failed.error ?? "", /dummy task asked to fail/);
  const before = await snapshot(dirs[1]);
  const done = await snapshot(dirs[0]);
  assert.equal(await exp(file, "--results", results), 1);
  assert.deepEqual(await snapshot(dirs[1]), before, "a failed run is left alone");
  assert.equal(await exp(file, "--results", results, "--retry-failed"), 1);
  assert.equal((await runStatus(dirs[1])).attempts, 2);
  assert.deepEqual(await snapshot(dirs[0]), done, "a done run is never touched");
  assert.equal(await exp(file, "--results", results, "--force", loaded.plan.runs[0].id), 1);
  assert.equal((await runStatus(dirs[0])).attempts, 1);
  assert.equal((await runStatus(dirs[0])).state, "done");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: a sweep killed with SIGKILL resumes: done runs untouched, no metrics line duplicated or lost", async () => {
  const body = `  name: "kill",
  task: { name: "dummy_linear", sleepMs: 50 },
  train: { epochs: 6, lr: { schedule: "constant", value: 0.05 }, logEvery: 1 },
  axes: { "task.dim": [3, 4] },`;
  const { dir, file, results } = await experiment(body);
  const { dirs } = await runDirs(file, results);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...WORKER_PERMISSIONS,
      "--config",
      CONFIG,
      CLI,
      "exp",
      file,
      "--results",
      results,
      "--no-report",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Kill once the second run has written its first checkpoint.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ckpt = await loadCheckpoint(`${dirs[1]}/checkpoint.safetensors`).catch(() => undefined);
    if (ckpt) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
  await child.status;
  assert.equal((await runStatus(dirs[0])).state, "done");
  assert.equal((await runStatus(dirs[1])).state, "running", "killed mid-run");
  const ckpt = await loadCheckpoint(`${dirs[1]}/checkpoint.safetensors`);
  assert.ok(ckpt && ckpt.meta.step >= 4 && ckpt.meta.step < 24, "killed after a checkpoint");
  const first = await snapshot(dirs[0]);

  assert.equal(await exp(file, "--results", results), 0);
  assert.deepEqual(await snapshot(dirs[0]), first, "the completed run is byte-identical");
  const resumed = await runStatus(dirs[1]);
  assert.equal(resumed.state, "done");
  assert.equal(resumed.attempts, 2);
  // The resumed run's metrics equal an uninterrupted run's, line for line.
  const ref = await experiment(body);
  assert.equal(await exp(ref.file, "--results", ref.results, "--only", "dim=4"), 0);
  const refDirs = (await runDirs(ref.file, ref.results)).dirs;
  const got = await runMetrics(dirs[1]);
  assert.deepEqual(got, await runMetrics(refDirs[1]));
  assert.equal(got.filter((l) => l.split === "train").length, 24);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(ref.dir, { recursive: true });
});

Deno.test("runner: --jobs 2 gives the same results as --jobs 1", async () => {
  const { dir, file, results } = await experiment(`  name: "jobs",
  task: { name: "dummy_linear" },
  train: { epochs: 2, lr: { schedule: "constant", value: 0.05 } },
  axes: { "task.dim": [2, 3, 4] },`);
  assert.equal(await exp(file, "--results", results, "--jobs", "2"), 0);
  assert.equal(await exp(file, "--results", `${results}1`, "--jobs", "1"), 0);
  const a = await runDirs(file, results), b = await runDirs(file, `${results}1`);
  for (let i = 0; i < a.dirs.length; i++) {
    assert.deepEqual(await runMetrics(a.dirs[i]), await runMetrics(b.dirs[i]));
    const [sa, sb] = [await runStatus(a.dirs[i]), await runStatus(b.dirs[i])];
    assert.equal(sa.state, "done");
    assert.deepEqual(sa.final, sb.final);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: --dry-run prints the plan and runs nothing; --only and --run-index select runs", async () => {
  const { dir, file, results } = await experiment(`  name: "dry",
  task: { name: "dummy_linear" },
  train: { epochs: 1, lr: { schedule: "constant", value: 0.05 } },
  axes: { "model.positional": ["sinusoid", "none"], "task.dim": [2, 3] },
  seeds: 2,`);
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    assert.equal(
      await main([file, "--results", results, "--dry-run", "--only", "positional=none"]),
      0,
    );
  } finally {
    console.log = log;
  }
  const text = out.join("\n");
  const { loaded } = await runDirs(file, results);
  assert.match(text, /dry: 4 runs \(2 variants × 2 seeds, filtered from 8\)/);
  assert.match(text, /#\s+id\s+model\.positional\s+task\.dim\s+seed\s+state/);
  for (const r of loaded.plan.runs) {
    const row = new RegExp(
      `${r.index}\\s+${r.id}\\s+${r.variant["model.positional"]}\\s+${
        r.variant["task.dim"]
      }\\s+${r.seed}\\s+pending`,
    );
    if (r.variant["model.positional"] === "none") assert.match(text, row);
    else assert.doesNotMatch(text, new RegExp(r.id));
  }
  await assert.rejects(Deno.stat(results), Deno.errors.NotFound);
  assert.equal(await exp(file, "--results", results, "--run-index", "5"), 0);
  const ran = [];
  for await (const e of Deno.readDir(`${results}/dry/runs`)) ran.push(e.name);
  assert.deepEqual(ran, [loaded.plan.runs[5].id]);
  assert.equal(await exp(file, "--results", results, "--run-index", "8"), 2);
  assert.equal(await exp(file, "--results", results, "--only", "positional=rope"), 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: status shows each run's state, step and primary metric; --launcher must exist", async () => {
  const { dir, file, results } = await experiment(`  name: "st",
  task: { name: "dummy_linear" },
  train: { epochs: 1, lr: { schedule: "constant", value: 0.05 } },
  axes: { "task.fail": [false, true] },`);
  assert.equal(await exp(file, "--results", results), 1);
  const { loaded } = await runDirs(file, results);
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    assert.equal(await main(["status", file, "--results", results]), 0);
  } finally {
    console.log = log;
  }
  const text = out.join("\n");
  const [ok, bad] = loaded.plan.runs;
  const okStatus = await runStatus(`${loaded.experimentDir}/runs/${ok.id}`);
  const mse = String(Number(okStatus.final!["test/mse"].toPrecision(4)));
  assert.match(text, /#\s+id\s+task\.fail\s+seed\s+state\s+step\s+test\/mse\s+note/);
  assert.match(text, new RegExp(`0\\s+${ok.id}\\s+false\\s+0\\s+done\\s+4/4\\s+${mse}`));
  assert.match(
    text,
    new RegExp(`1\\s+${bad.id}\\s+true\\s+0\\s+failed\\s+.*dummy task asked to fail`),
  );
  assert.match(text, /st: 1 done, 1 failed of 2 runs/);
  const err: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    assert.equal(await main([file, "--results", results, "--launcher", "nosuch"]), 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(err, ["--launcher nosuch: lib/launch/nosuch.ts does not exist"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: budgets stop training (maxSteps mid-epoch, timeLimitS) and still evaluate", async () => {
  const { dir, file, results } = await experiment(`  name: "budget",
  task: { name: "dummy_linear" },
  train: { epochs: 50, maxSteps: 6, lr: { schedule: "constant", value: 0.05 }, logEvery: 2 },
  axes: { "task.sleepMs": [0, 40], "train.timeLimitS": [1000, 0.2] },
  exclude: [{ "task.sleepMs": 0, "train.timeLimitS": 0.2 }, { "task.sleepMs": 40, "train.timeLimitS": 1000 }],`);
  assert.equal(await exp(file, "--results", results), 0);
  const { dirs } = await runDirs(file, results);
  const bySteps = await runStatus(dirs[0]);
  assert.equal(bySteps.state, "done");
  assert.equal(bySteps.stoppedBy, "maxSteps");
  assert.equal(bySteps.step, 6);
  const m = await runMetrics(dirs[0]);
  assert.deepEqual(m.slice(-2).map((l) => [l.split, l.step, l.epoch]), [["val", 6, 1.5], [
    "test",
    6,
    1.5,
  ]]);
  const byTime = await runStatus(dirs[1]);
  assert.equal(byTime.state, "done");
  assert.equal(byTime.stoppedBy, "timeLimit");
  assert.ok(byTime.step! < 50 * 4);
  assert.equal((await runMetrics(dirs[1])).at(-1)?.split, "test");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runner: a run cut off during its final evaluation redoes only that", async () => {
  const { dir, file, results } = await experiment(`  name: "final",
  task: { name: "dummy_linear" },
  train: { epochs: 2, lr: { schedule: "constant", value: 0.05 } },`);
  assert.equal(await exp(file, "--results", results), 0);
  const { dirs } = await runDirs(file, results);
  const before = await runMetrics(dirs[0]);
  const s = await runStatus(dirs[0]);
  // As if killed after the last checkpoint, halfway through the final evaluations.
  const lines = (await Deno.readTextFile(`${dirs[0]}/metrics.jsonl`)).split("\n");
  await Deno.writeTextFile(`${dirs[0]}/metrics.jsonl`, lines.slice(0, -2).join("\n") + "\n");
  await Deno.writeTextFile(
    `${dirs[0]}/status.json`,
    JSON.stringify({ ...s, state: "running", endedAt: undefined }),
  );
  assert.equal(await exp(file, "--results", results), 0);
  assert.deepEqual(await runMetrics(dirs[0]), before);
  const after = await runStatus(dirs[0]);
  assert.equal(after.state, "done");
  assert.equal(after.attempts, 2);
  assert.deepEqual(after.final, s.final);
  await Deno.remove(dir, { recursive: true });
});
