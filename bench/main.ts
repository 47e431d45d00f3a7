/**
 * `deno task bench`: fuselab's training step against PyTorch's on the same
 * model, alternating the two so that machine noise falls on both.
 *
 * For each backend (blas, wasm; cpu only with one capped step) it prints the
 * median step time over the measured steps after warm-up, PyTorch's median
 * over the steps interleaved with them, and the ratio; then scaling tables
 * (sequence length, model width), peak memory, and last the line
 * `bench: backend=<name> step_ms=<x> torch_step_ms=<y> ratio=<x/y>` for the
 * fastest fuselab backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import process from "node:process";
import { selectBackend } from "../lib/engine/backend.ts";
import { installBlasKernels, uninstallBlasKernels } from "../lib/engine/blas/mod.ts";
import { BENCH_SHAPE, type BenchShape, makeTrainer } from "./model.ts";
import { TorchWorker } from "./torch_worker.ts";
import { productFlops, productKey, stepProducts, timeProducts } from "./floor.ts";
import { loadOpenBlas } from "../lib/engine/blas/openblas.ts";

const USAGE = `usage: deno task bench [options]
  --quick             blas only, 5 measured steps, no scaling tables
  --steps N           measured steps per backend (default 10; at least 10 for the report)
  --warmup N          warm-up steps, not measured (default 2)
  --backends LIST     comma-separated: blas,wasm,cpu (default blas,wasm; cpu runs one capped step)
  --threads N         OpenBLAS and PyTorch threads (default 2)
  --torch-threads N   PyTorch's threads alone (torch.set_num_threads; default: --threads)
  --dropout P         dropout rate of the model (default 0)
  --no-torch          fuselab only (no ratio)
  --no-scaling        skip the sequence-length and width tables
  --scaling-only      only the scaling tables (blas)
  --profile           print blas's top kernels for one step
  --no-fused          Adam's tensor formula instead of its fused update (for comparison)
  --no-floor          skip timing the step's matrix products alone (the floor under any step)
  --settle-ms N       pause before each side's turn, so the other side's idle threads stop
                      spinning (default 250; 0 to alternate back to back)
  --help`;

interface Options {
  steps: number;
  warmup: number;
  backends: string[];
  threads: number;
  /** PyTorch's threads when they differ from fuselab's. */
  torchThreads?: number;
  dropout: number;
  torch: boolean;
  scaling: boolean;
  main: boolean;
  profile: boolean;
  fused: boolean;
  floor: boolean;
}

/**
 * Pause before each side's turn. OpenBLAS's idle threads spin for about 0.1 s
 * after a product, and OpenMP's for a while after a parallel region; back to
 * back, one side's spinning threads ran on the cores the other side was being
 * timed on (measured here: PyTorch 530 ms a step back to back, 325 ms with its
 * threads passive), so neither was measured alone.
 */
let settleMs = 250;

/** Whether the trainers use Adam's fused update (`--no-fused` turns it off). */
let trainerFused = true;

function parseArgs(args: string[]): Options {
  const o: Options = {
    steps: 10,
    warmup: 2,
    backends: ["blas", "wasm"],
    threads: 2,
    dropout: 0,
    torch: true,
    scaling: true,
    main: true,
    profile: false,
    fused: true,
    floor: true,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`bench: ${a} needs a number\n${USAGE}`);
      return v;
    };
    switch (a) {
      case "--quick":
        o.steps = 5;
        o.backends = ["blas"];
        o.scaling = false;
        break;
      case "--steps":
        o.steps = Math.max(1, Math.floor(num()));
        break;
      case "--warmup":
        o.warmup = Math.floor(num());
        break;
      case "--backends":
        o.backends = (args[++i] ?? "").split(",").filter(Boolean);
        for (const b of o.backends) {
          if (!["blas", "wasm", "cpu"].includes(b)) {
            throw new Error(`bench: unknown backend "${b}" (use blas, wasm, cpu)`);
          }
        }
        break;
      case "--threads":
        o.threads = Math.max(1, Math.floor(num()));
        break;
      case "--torch-threads":
        o.torchThreads = Math.max(1, Math.floor(num()));
        break;
      case "--dropout":
        o.dropout = num();
        break;
      case "--no-torch":
        o.torch = false;
        break;
      case "--no-scaling":
        o.scaling = false;
        break;
      case "--scaling-only":
        o.main = false;
        break;
      case "--settle-ms":
        settleMs = Number(args[++i]);
        if (!Number.isFinite(settleMs) || settleMs < 0) {
          throw new Error(`bench: --settle-ms needs a number ≥ 0, got "${args[i]}"`);
        }
        break;
      case "--no-fused":
        o.fused = false;
        break;
      case "--profile":
        o.profile = true;
        break;
      case "--no-floor":
        o.floor = false;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        throw new Error(`bench: unknown option "${a}"\n${USAGE}`);
    }
  }
  return o;
}

/** The median of a list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function useBackend(name: string, threads: number): Promise<void> {
  if (name === "cpu") {
    await selectBackend("cpu");
    await tf.setBackend("cpu");
    return;
  }
  await selectBackend("wasm");
  await tf.setBackend("wasm");
  if (name === "blas") {
    const r = await installBlasKernels({ threads });
    if (!r.ok) throw new Error(`blas backend unavailable: ${r.why}`);
  } else {
    uninstallBlasKernels();
  }
}

function heapMb(): number {
  if (tf.getBackend() !== "wasm") return 0;
  const be = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  return be.wasm.HEAPU8.buffer.byteLength / 2 ** 20;
}

interface Measured {
  fuselab: number[];
  torch: number[];
  /** CPU time of each step, all threads. */
  fuselabCpu: number[];
  torchCpu: number[];
  loss: number;
}

/** This process's CPU time (user + system, all threads) in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Warm-up, then rounds of `chunk` fuselab steps followed by `chunk` PyTorch
 * steps until each side has `steps` measured steps, each turn after a pause
 * of `settleMs`.
 */
async function alternate(
  shape: BenchShape,
  torch: TorchWorker | undefined,
  threads: number,
  steps: number,
  warmup: number,
  chunk = 2,
): Promise<Measured> {
  const trainer = makeTrainer(shape, 0, { fused: trainerFused });
  if (torch) await torch.setup(shape, threads);
  try {
    let loss = NaN;
    for (let i = 0; i < warmup; i++) loss = trainer.step();
    if (torch && warmup) await torch.steps(warmup);
    const fuselab: number[] = [], py: number[] = [], fCpu: number[] = [], pCpu: number[] = [];
    while (fuselab.length < steps) {
      const n = Math.min(chunk, steps - fuselab.length);
      if (torch && settleMs) await sleep(settleMs);
      for (let i = 0; i < n; i++) {
        const c0 = processCpuMs(), t0 = performance.now();
        loss = trainer.step();
        fuselab.push(performance.now() - t0);
        fCpu.push(processCpuMs() - c0);
      }
      if (torch) {
        if (settleMs) await sleep(settleMs);
        const r = await torch.steps(n);
        py.push(...r.ms);
        pCpu.push(...r.cpuMs);
      }
    }
    return { fuselab, torch: py, fuselabCpu: fCpu, torchCpu: pCpu, loss };
  } finally {
    trainer.dispose();
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  return cells.map((r) => r.map((c, i) => String(c).padStart(w[i])).join("  ")).join("\n");
}

async function profileStep(shape: BenchShape): Promise<void> {
  const trainer = makeTrainer(shape, 0, { fused: trainerFused });
  trainer.step();
  const prof = await tf.profile(() => void trainer.step());
  const by = new Map<string, { ms: number; n: number }>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += k.kernelTimeMs as number;
    e.n++;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
  const rows = [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)
    .map(([n, e]) => [n, e.ms, e.n, `${(100 * e.ms / total).toFixed(0)}%`]);
  console.log(
    `\nprofile (blas, one step, ${prof.kernels.length} kernels, ${fmt(total)} ms in kernels):`,
  );
  console.log(table(["kernel", "ms", "calls", "share"], rows));
  trainer.dispose();
}

/** Runs the bench; returns the exit code. */
/**
 * Times the step's matrix products alone on OpenBLAS (`floor.ts`) and prints
 * them, the floor they put under any step, and what a ratio of 0.7 would leave.
 */
async function printFloor(shape: BenchShape, threads: number, torchMs: number): Promise<void> {
  if (settleMs) await sleep(settleMs);
  const blas = loadOpenBlas();
  blas.setThreads(threads);
  const timed = timeProducts(blas, stepProducts(shape));
  const ms = timed.reduce((s, p) => s + p.ms, 0), flops = productFlops(timed);
  console.log(
    `\nmatrix products of one step (OpenBLAS, ${threads} threads; each kind's calls back to back ` +
      `on warm buffers, best of 3 rounds):`,
  );
  console.log(table(
    ["product", "calls", "GFLOP", "ms", "GFLOP/s", "from"],
    timed.map((p) => {
      const g = productFlops([p]) / 1e9;
      return [
        productKey(p),
        String(p.count),
        g.toFixed(2),
        p.ms,
        (g / p.ms * 1e3).toFixed(0),
        p.label,
      ];
    }),
  ));
  const line = `floor: ${(flops / 1e9).toFixed(2)} GFLOP of products take ${fmt(ms)} ms at best ` +
    `(${(flops / ms / 1e6).toFixed(0)} GFLOP/s)`;
  if (!Number.isFinite(torchMs)) {
    console.log(line);
    return;
  }
  console.log(
    `${line} = ${(ms / torchMs).toFixed(2)} × PyTorch's median step (${fmt(torchMs)} ms), ` +
      `which calls the same library for the same products; a ratio of 0.7 ` +
      `(${fmt(0.7 * torchMs)} ms) would leave ${fmt(0.7 * torchMs - ms)} ms for everything else`,
  );
}

export async function main(args: string[]): Promise<number> {
  const o = parseArgs(args);
  trainerFused = o.fused;
  const shape: BenchShape = { ...BENCH_SHAPE, dropout: o.dropout };
  let torch: TorchWorker | undefined;
  if (o.torch) {
    const w = await TorchWorker.start();
    if (typeof w === "string") console.log(`bench: no PyTorch comparison: ${w}`);
    else torch = w;
  }
  try {
    const s = shape;
    console.log(
      `bench model: d_model ${s.dModel}, ${s.heads} heads, d_ff ${s.dFF}, ${s.layers} layers, ` +
        `seq ${s.seq}, batch ${s.batch}, vocab ${s.vocab}, dropout ${s.dropout}; ` +
        `forward + backward + Adam; ${o.threads} threads` +
        (o.torchThreads ? ` (PyTorch ${o.torchThreads})` : "") +
        `; ${navigator.hardwareConcurrency} CPUs`,
    );
    const results: { name: string; ms: number; torchMs: number }[] = [];
    const memRows: (string | number)[][] = [];
    if (o.main) {
      const rows: (string | number)[][] = [];
      for (const name of o.backends) {
        await useBackend(name, o.threads);
        // The cpu backend takes over a minute a step: one capped step, labelled.
        const capped = name === "cpu";
        const m = await alternate(
          shape,
          torch,
          o.torchThreads ?? o.threads,
          capped ? 1 : o.steps,
          capped ? 0 : o.warmup,
        );
        const ms = median(m.fuselab), tm = torch ? median(m.torch) : NaN;
        const cpu = median(m.fuselabCpu), tcpu = torch ? median(m.torchCpu) : NaN;
        const label = capped ? "cpu (1 step, no warm-up)" : name;
        rows.push([
          label,
          ms,
          Math.min(...m.fuselab),
          tm,
          torch ? (ms / tm).toFixed(2) : "-",
          cpu,
          tcpu,
          String(m.fuselab.length),
          m.loss.toFixed(3),
        ]);
        if (!capped) results.push({ name, ms, torchMs: tm });
        memRows.push([name, heapMb(), Deno.memoryUsage().rss / 2 ** 20]);
        console.log(`  ${label}: median ${fmt(ms)} ms, PyTorch ${fmt(tm)} ms`);
      }
      console.log(
        "\n" +
          table([
            "backend",
            "median ms",
            "min ms",
            "torch median ms",
            "ratio",
            "cpu ms",
            "torch cpu ms",
            "steps",
            "loss",
          ], rows) +
          "\n(cpu ms: median CPU time per step over all threads, spinning BLAS/OpenMP threads included)",
      );
    }
    const blasRun = results.find((r) => r.name === "blas");
    if (o.floor && blasRun) await printFloor(shape, o.threads, blasRun.torchMs);
    if (o.profile) {
      await useBackend("blas", o.threads);
      await profileStep(shape);
    }
    if (o.scaling) {
      await useBackend("blas", o.threads);
      const steps = 5, warm = 1;
      const rows: (string | number)[][] = [];
      // Constant tokens per batch (2048), so the attention share grows with length.
      for (const seq of [32, 64, 128, 256, 512]) {
        const sh = { ...shape, seq, batch: Math.max(1, Math.floor(2048 / seq)) };
        const m = await alternate(sh, torch, o.torchThreads ?? o.threads, steps, warm, 1);
        const ms = median(m.fuselab), tm = torch ? median(m.torch) : NaN;
        rows.push([`seq ${seq} × batch ${sh.batch}`, ms, tm, torch ? (ms / tm).toFixed(2) : "-"]);
      }
      for (const d of [128, 512]) {
        const sh = { ...shape, dModel: d, dFF: 4 * d };
        const m = await alternate(sh, torch, o.torchThreads ?? o.threads, steps, warm, 1);
        const ms = median(m.fuselab), tm = torch ? median(m.torch) : NaN;
        rows.push([`d_model ${d}, d_ff ${4 * d}`, ms, tm, torch ? (ms / tm).toFixed(2) : "-"]);
      }
      console.log(`\nscaling (blas, median of ${steps} steps after ${warm} warm-up, alternating):`);
      console.log(table(["shape", "blas ms", "torch ms", "ratio"], rows));
      memRows.push(["blas (after scaling)", heapMb(), Deno.memoryUsage().rss / 2 ** 20]);
    }
    if (memRows.length) {
      console.log("\npeak memory (MB; the wasm heap never shrinks, so its size is its peak):");
      const torchRss = torch ? await torch.maxRssMb() : NaN;
      console.log(table(["after", "wasm heap", "deno RSS", "torch max RSS"], [
        ...memRows.map((r) => [...r, torchRss]),
      ]));
    }
    if (results.length) {
      const best = results.reduce((a, b) => (b.ms < a.ms ? b : a));
      const ratio = best.ms / best.torchMs;
      console.log(
        `\nbench: backend=${best.name} step_ms=${fmt(best.ms)} torch_step_ms=${
          fmt(best.torchMs)
        } ratio=${Number.isFinite(ratio) ? ratio.toFixed(2) : "-"}`,
      );
    }
    return 0;
  } finally {
    await torch?.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
}
