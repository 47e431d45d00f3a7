/**
 * The sweep side of live reports: the ETA, and a LiveDisplay that rebuilds
 * the pages in its worker thread as runs start, evaluate and finish.
 */
import assert from "node:assert/strict";
import { writeSyntheticExperiment } from "../report/synthetic.ts";
import { LiveDisplay, sweepEta } from "./live.ts";
import { writeDummyExperiment } from "./experiment_test_support.ts";

Deno.test("sweepEta: running runs' own ETAs, a typical run per pending one, over the slots", () => {
  // one slot: 30 s left on the running run + 2 pending × 100 s
  assert.equal(sweepEta([{ elapsedS: 10, etaS: 30 }], 2, [100], 1), 230);
  // two slots: (30 + 40 + 3 × 100) / 2
  assert.equal(sweepEta([{ elapsedS: 10, etaS: 30 }, { elapsedS: 5, etaS: 40 }], 3, [100], 2), 185);
  // never less than the longest running run
  assert.equal(sweepEta([{ elapsedS: 1, etaS: 500 }], 0, [100], 4), 500);
  // no finished run: a typical run is elapsed + ETA of the running ones
  assert.equal(sweepEta([{ elapsedS: 20, etaS: 60 }], 1, [], 1), 140);
  // a running run without an ETA: a typical run less its time so far
  assert.equal(sweepEta([{ elapsedS: 30 }], 0, [100], 1), 70);
  assert.equal(sweepEta([{ elapsedS: 3 }], 2, [], 1), undefined);
});

Deno.test("LiveDisplay rebuilds the live pages on start, evaluation and finish", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-live-" });
  const dir = `${root}/pe`;
  await writeSyntheticExperiment(dir);
  const rebuilds: number[] = [];
  const log = console.log;
  const write = Deno.stdout.writeSync;
  Deno.stdout.writeSync = (b: Uint8Array) => b.length;
  console.log = () => {};
  const display = new LiveDisplay(2, { tty: false }, {
    experimentDir: dir,
    resultsRoot: root,
    total: 12,
    finishedBefore: 10,
    jobs: 1,
    minGapS: 0,
    refreshS: 3,
    onRebuild: (ms) => rebuilds.push(ms),
  });
  const waitFor = async (n: number) => {
    while (rebuilds.length < n) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    display.start("a", "a learned seed 1");
    await waitFor(1);
    let html = await Deno.readTextFile(`${dir}/report.html`);
    assert.match(html, /10 of 12 runs finished, 1 running, 1 pending/);
    assert.match(html, /<meta http-equiv="refresh" content="3">/);
    assert.match(await Deno.readTextFile(`${root}/index.html`), /Sweep in progress/);
    const p = { step: 50, totalSteps: 100, epoch: 1, epochs: 2 };
    display.update("a", { ...p, phase: "evaluating" });
    display.update("a", { ...p, phase: "training", etaS: 20 });
    await waitFor(2);
    html = await Deno.readTextFile(`${dir}/report.html`);
    assert.match(html, /learned seed 1: step 50 of 100 \(50%\)/);
    // 20 s left on a, and a typical run (a's time so far + 20 s) for the pending one
    const m = /about (?:(\d+) min )?(\d+) s left/.exec(html);
    const eta = 60 * Number(m?.[1] ?? 0) + Number(m?.[2]);
    assert.ok(eta >= 40, html);
    display.finish("a", "done");
    await waitFor(3);
    assert.match(
      await Deno.readTextFile(`${dir}/report.html`),
      /11 of 12 runs finished, 0 running/,
    );
  } finally {
    await display.stopLive();
    display.close();
    console.log = log;
    Deno.stdout.writeSync = write;
  }
  const n = rebuilds.length;
  display.start("b", "b sinusoid seed 1"); // after stopLive: nothing more is rebuilt
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(rebuilds.length, n);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a sweep's pages are live while it runs; its last build is deno task report's, byte for byte", async () => {
  const { main: exp } = await import("../cli/exp.ts");
  const { main: report } = await import("../cli/report.ts");
  const { dir, file, results } = await writeDummyExperiment(
    `  name: "live",
  backend: "cpu",
  task: { name: "dummy_linear", sleepMs: 40 },
  train: { epochs: 4, lr: { schedule: "constant", value: 0.05 }, logEvery: 2 },
  axes: { "task.dim": [3, 5] },
  seeds: [0, 1],`,
    "fuselab-live-sweep-",
  );
  const page = `${results}/live/report.html`;
  // Watch the page while the sweep trains (the dummy task sleeps, so this loop gets its turns).
  const seen: string[] = [];
  let sweeping = true;
  const watch = (async () => {
    while (sweeping) {
      const html = await Deno.readTextFile(page).catch(() => "");
      if (html.includes("Sweep in progress") && !seen.includes(html)) seen.push(html);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const log = console.log;
  const write = Deno.stdout.writeSync;
  const out: string[] = [];
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  Deno.stdout.writeSync = (b: Uint8Array) => {
    out.push(new TextDecoder().decode(b));
    return b.length;
  };
  let code: number;
  try {
    code = await exp([file, "--results", results, "--plain"]);
  } finally {
    sweeping = false;
    console.log = log;
    Deno.stdout.writeSync = write;
  }
  await watch;
  assert.equal(code, 0, out.join(""));
  assert.match(out.join(""), /live report: rebuilt \d+ times? while training/);
  assert.ok(seen.length > 0, "a live page was seen during the sweep");
  assert.ok(
    seen.every((h) => h.includes('<meta http-equiv="refresh" content="10">')),
    "every live page refreshes itself",
  );
  assert.ok(seen.some((h) => / [0-3] of 4 runs finished/.test(h)), "a page from mid-sweep");

  const files = async () => {
    const all: Record<string, Uint8Array> = {};
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        const p = `${d}/${e.name}`;
        if (e.isDirectory) {
          if (e.name !== "runs") await walk(p);
        } else all[p] = await Deno.readFile(p);
      }
    };
    await walk(results);
    return all;
  };
  const finished = await files();
  const last = new TextDecoder().decode(finished[page]);
  assert.ok(!last.includes("Sweep in progress") && !last.includes("refresh"));
  assert.ok(`${results}/live/runs.csv` in finished && `${results}/index.html` in finished);
  console.log = () => {};
  try {
    assert.equal(await report(["--results", results]), 0);
  } finally {
    console.log = log;
  }
  const rebuilt = await files();
  assert.deepEqual(Object.keys(rebuilt).sort(), Object.keys(finished).sort());
  for (const [p, bytes] of Object.entries(finished)) assert.deepEqual(rebuilt[p], bytes, p);
  await Deno.remove(dir, { recursive: true });
});
