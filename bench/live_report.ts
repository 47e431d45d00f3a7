/**
 * What a live report rebuild costs: `deno run -A bench/live_report.ts
 * [results/<experiment>] [--sweeps N]`.
 *
 * 1. One live rebuild (read the results, render, write report.html), timed
 *    20 times in this process after one warm-up: median wall and CPU ms.
 * 2. With `--sweeps N` (N ≥ 1): the quick start's sweep (`--force all`), N
 *    times with live pages and N times without (`--no-live`),
 *    alternating so that machine noise falls on both; prints each sweep's
 *    wall time and its runs' training seconds (status.json) and the medians.
 *
 * @module
 */
import process from "node:process";
import { buildLiveReport, type LiveState } from "../lib/report/live.ts";

const args = [...Deno.args];
const sweepsAt = args.indexOf("--sweeps");
const sweeps = sweepsAt >= 0 ? Number(args.splice(sweepsAt, 2)[1]) : 0;
const dir = args[0] ?? "results/quickstart";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const state: LiveState = {
  at: new Date().toISOString(),
  total: 4,
  finished: 2,
  running: [{ label: "learned seed 0", step: 100, totalSteps: 200, phase: "training" }],
  pending: 1,
  etaS: 30,
  refreshS: 10,
};
const report = await Deno.readTextFile(`${dir}/report.html`).catch(() => undefined);
await buildLiveReport(dir, state); // warm-up: module and font loading
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < 20; i++) {
  const c0 = cpuMs();
  const t0 = performance.now();
  await buildLiveReport(dir, state);
  wall.push(performance.now() - t0);
  cpu.push(cpuMs() - c0);
}
if (report !== undefined) await Deno.writeTextFile(`${dir}/report.html`, report);
console.log(
  `live rebuild of ${dir}: median ${median(wall).toFixed(0)} ms wall, ` +
    `${median(cpu).toFixed(0)} ms CPU (20 rebuilds; min ${Math.min(...wall).toFixed(0)} ms)`,
);

async function sweep(live: boolean): Promise<{ wall: number; train: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "exp",
      "experiments/quickstart.ts",
      "--plain",
      "--force",
      "all",
      ...(live ? [] : ["--no-live"]),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  let train = 0;
  for await (const e of Deno.readDir("results/quickstart/runs")) {
    const s = JSON.parse(await Deno.readTextFile(`results/quickstart/runs/${e.name}/status.json`));
    train += s.trainSeconds ?? 0;
  }
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) =>
    l.startsWith("live report:")
  );
  console.log(
    `sweep ${live ? "with live pages   " : "without live pages"}: ${wall.toFixed(1)} s wall, ` +
      `${train.toFixed(1)} s training${line ? ` (${line})` : ""}`,
  );
  return { wall, train };
}

if (sweeps > 0) {
  const on: { wall: number; train: number }[] = [];
  const off: { wall: number; train: number }[] = [];
  for (let i = 0; i < sweeps; i++) {
    if (i % 2 === 0) {
      off.push(await sweep(false));
      on.push(await sweep(true));
    } else {
      on.push(await sweep(true));
      off.push(await sweep(false));
    }
  }
  for (const [name, xs] of [["with live pages", on], ["without", off]] as const) {
    console.log(
      `${name}: median ${median(xs.map((x) => x.wall)).toFixed(1)} s wall, ` +
        `${median(xs.map((x) => x.train)).toFixed(1)} s training (${xs.length} sweeps)`,
    );
  }
}
