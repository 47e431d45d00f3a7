/**
 * Where a webgpu training step's time goes: the bench model's step timed
 * plain, then again with every TF.js kernel function, every backend method
 * that records or submits GPU work, and the WebGPU calls under them wrapped
 * by timers (the wrapped step is slower; compare its parts, not its total).
 *
 *   deno run -A tools/device/profile.ts [--batch N] [--seq N] [--backend webgpu]
 *   deno run -A tools/device/profile.ts --record-only [--steps N]
 *   deno run -A tools/device/profile.ts --gpu-time [--top N]
 *   deno run -A tools/device/profile.ts --timeline [--steps N]
 *
 * `--record-only` measures the CPU side alone, on any adapter: every dispatch
 * is recorded with an empty grid (the GPU computes nothing, so a software
 * adapter does not compete for the CPU) and each step's recording time, less
 * the time inside `queue.submit`, is printed (the losses are meaningless).
 *
 * `--gpu-time` measures the GPU side: every dispatch of one step in a compute
 * pass of its own with timestamps at its start and end (needs the adapter's
 * `timestamp-query`), summed by program and shape. The sum of the dispatches
 * is the GPU's busy time; the span from the first start to the last end, less
 * that sum, is the time the GPU waited between them.
 *
 * `--timeline` runs steps as a training loop does on webgpu (recorded back
 * to back, the losses read once at the end) with timestamps around every
 * compute pass as TF.js batches them: the wall time a step, the CPU time
 * recording it (and inside `queue.submit`), and how long the GPU was busy
 * against how long it waited in between.
 *
 * On an H200 this showed that each dispatch costs about 80 µs of JavaScript
 * and WebGPU calls (docs/gpu.md, "Making it fast").
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendName, selectBackend } from "../../lib/engine/backend.ts";
import { BENCH_DEFAULTS, BenchModel } from "../webgpu/workloads.ts";
import { dispatchCounters } from "../../lib/engine/webgpu/dispatch.ts";
import { installGpuTimer, sumBy } from "./gpu_timer.ts";

type Timed = Record<string, (...args: unknown[]) => unknown>;

const flag = (name: string, fallback: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : fallback;
};
const batch = Number(flag("--batch", String(BENCH_DEFAULTS.batch)));
const seq = Number(flag("--seq", String(BENCH_DEFAULTS.seq)));
if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
await selectBackend(flag("--backend", "webgpu") as BackendName);

const model = new BenchModel({ ...BENCH_DEFAULTS, batch, seq });
if (Deno.args.includes("--record-only")) {
  await recordOnly(Number(flag("--steps", "11")));
  Deno.exit(0);
}
if (Deno.args.includes("--timeline")) {
  await timeline(Number(flag("--steps", "20")));
  Deno.exit(0);
}
if (Deno.args.includes("--gpu-time")) {
  await gpuTime();
  Deno.exit(0);
}
for (let i = 0; i < 3; i++) await model.step();
let t0 = performance.now();
await model.step();
const plain = performance.now() - t0;

const stats = new Map<string, { n: number; ms: number }>();
const add = (key: string, ms: number) => {
  const e = stats.get(key) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += ms;
  stats.set(key, e);
};
/** Wraps `obj[name]` (when it is a function) with a timer under `label`. */
function wrap(obj: Timed | undefined, name: string, label: string): void {
  const f = obj?.[name];
  if (!obj || typeof f !== "function") return;
  obj[name] = function (this: unknown, ...args: unknown[]) {
    const s = performance.now();
    const r = f.apply(this, args);
    add(label, performance.now() - s);
    return r;
  };
}
const backend = tf.backend() as unknown as Timed & { device?: Timed & { queue?: Timed } };
const device = backend.device;
for (
  const n of ["createBindGroup", "createBuffer", "createCommandEncoder", "createComputePipeline"]
) {
  wrap(device, n, `device.${n}`);
}
for (const n of ["submit", "writeBuffer"]) wrap(device?.queue, n, `queue.${n}`);
for (
  const n of ["runWebGPUProgram", "recordAndSubmit", "makeUniforms", "submitQueue", "uploadToGPU"]
) {
  wrap(backend, n, `backend.${n}`);
}
const kernels = new Map<string, { n: number; ms: number }>();
for (const k of tf.getKernelsForBackend(tf.getBackend())) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, k.backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const s = performance.now();
      const r = inner(args);
      const e = kernels.get(k.kernelName) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - s;
      kernels.set(k.kernelName, e);
      return r;
    },
  });
}
const raw0 = dispatchCounters().rawDispatches;
t0 = performance.now();
await model.step();
const wrapped = performance.now() - t0;
const raw = dispatchCounters().rawDispatches - raw0;
const programs = stats.get("backend.runWebGPUProgram")?.n ?? 0;
const total = [...kernels.values()].reduce((s, e) => s + e.ms, 0);
const calls = [...kernels.values()].reduce((s, e) => s + e.n, 0);
console.log(
  `${tf.getBackend()}, batch ${batch}, seq ${seq}: step ${plain.toFixed(1)} ms; wrapped step ` +
    `${wrapped.toFixed(1)} ms, ${calls} kernel calls, ${total.toFixed(1)} ms inside them`,
);
const rows = (m: Map<string, { n: number; ms: number }>, prefix: string) =>
  [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14).map(([k, e]) =>
    `  ${prefix}${k}: ${e.n} calls, ${e.ms.toFixed(1)} ms (${
      (1000 * e.ms / e.n).toFixed(0)
    } µs each)`
  ).join("\n");
console.log(
  `  dispatches: ${programs + raw} (${programs} TF.js programs, ${raw} fuselab modules)`,
);
console.log(rows(stats, ""));
console.log(rows(kernels, "kernel "));
model.dispose();

/** Wraps `queue.submit` so that the returned counter sums its calls and their time (ms). */
function timeSubmits(queue: Timed): { ms: number; n: number } {
  const counter = { ms: 0, n: 0 };
  const submit = queue.submit.bind(queue);
  queue.submit = (buffers: unknown) => {
    const s = performance.now();
    try {
      return submit(buffers);
    } finally {
      counter.ms += performance.now() - s;
      counter.n++;
    }
  };
  return counter;
}

/** Median and minimum CPU-side recording time of a step with every dispatch emptied. */
async function recordOnly(steps: number): Promise<void> {
  const backend = tf.backend() as unknown as { device: Timed; queue: Timed };
  const device = backend.device, queue = backend.queue;
  const encoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (desc?: unknown) => {
    const enc = encoder(desc) as Timed;
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (d?: unknown) => {
      const pass = begin(d) as Timed;
      pass.dispatchWorkgroups = () => {};
      return pass;
    };
    return enc;
  };
  const submits = timeSubmits(queue);
  for (let i = 0; i < 2; i++) await model.step();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    submits.ms = 0;
    const s = performance.now();
    const pending = model.issue();
    ms.push(performance.now() - s - submits.ms);
    await pending;
  }
  ms.sort((a, b) => a - b);
  console.log(
    `${tf.getBackend()}, batch ${batch}, seq ${seq}: recording a step (CPU side, submit excluded) ` +
      `median ${ms[ms.length >> 1].toFixed(1)} ms, min ${ms[0].toFixed(1)} ms over ${steps} steps`,
  );
  model.dispose();
}

/** GPU time of each dispatch of one step, from timestamps around each one. */
async function gpuTime(): Promise<void> {
  for (let i = 0; i < 3; i++) await model.step();
  const timer = installGpuTimer();
  timer.start();
  await model.step();
  const list = await timer.stop();
  const busy = list.reduce((s, d) => s + d.us, 0);
  console.log(
    `${tf.getBackend()}, batch ${batch}, seq ${seq}: ${list.length} dispatches, GPU busy ` +
      `${(busy / 1000).toFixed(2)} ms a step (the sum of its dispatches)`,
  );
  const show = (rows: [string, { n: number; us: number }][], count: number) =>
    rows.slice(0, count).forEach(([k, e]) =>
      console.log(
        `  ${(e.us / 1000).toFixed(3).padStart(7)} ms ${
          (100 * e.us / busy).toFixed(1).padStart(5)
        }%` +
          `  ${e.n}× ${k}`,
      )
    );
  console.log("by program:");
  show(sumBy(list, (name) => name.split(" ")[0]), 30);
  console.log("by program and shape:");
  show(sumBy(list, (name) => name), Number(flag("--top", "40")));
  model.dispose();
}

/** Where a steady step's wall time goes: CPU recording vs GPU busy and idle. */
async function timeline(steps: number): Promise<void> {
  for (let i = 0; i < 3; i++) await model.step();
  const submits = timeSubmits((tf.backend() as unknown as { queue: Timed }).queue);
  const timer = installGpuTimer();
  timer.start({ split: false });
  const record: number[] = [];
  const kept: tf.Scalar[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    kept.push(model.record());
    record.push(performance.now() - s);
  }
  const tRecorded = performance.now();
  const all = tf.stack(kept);
  await all.data();
  const wall = performance.now() - t0;
  const passes = await timer.stop();
  tf.dispose([all, ...kept]);
  const busy = passes.reduce((s, p) => s + p.us, 0) / 1000;
  const last = passes[passes.length - 1];
  const span = (last.at + last.us) / 1000;
  const gaps = passes.slice(1).map((p, i) => p.at - passes[i].at - passes[i].us).sort((a, b) =>
    b - a
  );
  record.sort((a, b) => a - b);
  const ms = (x: number) => x.toFixed(2);
  console.log(
    `timeline: ${steps} steps recorded back to back, losses read once: wall ${
      ms(wall / steps)
    } ms ` +
      `a step; CPU recording ${ms(record[record.length >> 1])} ms a step (median; all ${
        ms((tRecorded - t0) / steps)
      }), of which queue.submit ${ms(submits.ms / steps)} (${
        (submits.n / steps).toFixed(1)
      } a step)`,
  );
  console.log(
    `timeline: GPU ${passes.length} passes (${
      ms(passes.reduce((s, p) => s + p.dispatches, 0) / steps)
    } dispatches a step): busy ${ms(busy / steps)} ms a step, span first→last ${
      ms(span / steps)
    } ms a step, idle between passes ${ms((span - busy) / steps)} ms a step; largest gaps µs: ${
      gaps.slice(0, 8).map((g) => g.toFixed(0)).join(" ")
    }`,
  );
  model.dispose();
}
