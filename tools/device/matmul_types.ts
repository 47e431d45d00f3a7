/**
 * Which of TF.js's four webgpu matmul programs is fastest for each Linear
 * product of the bench model's step, timed on the GPU (gpu_timer.ts): the
 * choice TF.js makes itself (`auto`), then each program forced through
 * `WEBGPU_MATMUL_PROGRAM_TYPE` (1 split-K, 2 small-output tiles, 3 packed
 * 32×32 tiles; 0, a reduction for tiny outputs, is left out), each also
 * after copying a transposed operand untransposed (`T+…`, the transpose's
 * time included), and fuselab's plan (lib/engine/webgpu/matmul.ts), with
 * and without its own split-K module for Aᵀ·B (`plan+splitTN`, `plan`). The
 * totals weigh each product by its count in a step (`T+` runs an
 * untransposed product as it is).
 *
 *   deno run -A tools/device/matmul_types.ts [--scale 0.25] [--reps 5]
 *
 * `--scale` shrinks the row count (m or k, whichever is batch × seq) for a
 * quick look on a software adapter.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/engine/backend.ts";
import { BENCH_SHAPE } from "../../bench/model.ts";
import { productKey, stepProducts } from "../../bench/floor.ts";
import { setMatMulPlan, setMatMulTN } from "../../lib/engine/webgpu/matmul.ts";
import { installGpuTimer } from "./gpu_timer.ts";

const flag = (name: string, fallback: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : fallback;
};
if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
await selectBackend("webgpu");
const scale = Number(flag("--scale", "1"));
const reps = Number(flag("--reps", "5"));
const rows = BENCH_SHAPE.batch * BENCH_SHAPE.seq;
const products = stepProducts(BENCH_SHAPE).filter((p) => p.m === rows || p.k === rows).map((p) => ({
  ...p,
  m: p.m === rows ? Math.round(rows * scale) : p.m,
  k: p.k === rows ? Math.round(rows * scale) : p.k,
}));
const timer = installGpuTimer();
type Candidate = [string, (a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean) => tf.Tensor];
/** TF.js's program `type` on the product as it is (-1: TF.js's choice). */
const direct = (type: number) => (a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean) => {
  tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", type);
  try {
    return tf.matMul(a, b, ta, tb);
  } finally {
    tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", -1);
  }
};
/** The transposed operands copied untransposed first, then `type`. */
const untransposed = (type: number) => (a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean) =>
  direct(type)(ta ? a.transpose() : a, tb ? b.transpose() : b, false, false);
const candidates: Candidate[] = [
  ["auto", direct(-1)],
  ["splitK", direct(1)],
  ["small", direct(2)],
  ["packed", direct(3)],
  ["T+auto", untransposed(-1)],
  ["T+splitK", untransposed(1)],
  ["T+small", untransposed(2)],
];
let totals = new Map<string, number>();
let best = 0;
for (const p of products) {
  const a = tf.randomNormal(p.transA ? [p.k, p.m] : [p.m, p.k]);
  const b = tf.randomNormal(p.transB ? [p.n, p.k] : [p.k, p.n]);
  const cells: string[] = [];
  let bestUs = Infinity;
  const planned = (a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean) => tf.matMul(a, b, ta, tb);
  const all: Candidate[] = [...candidates, ["plan", planned], ["plan+splitTN", planned]];
  for (const [name, f] of all) {
    setMatMulPlan(name.startsWith("plan"));
    setMatMulTN(name === "plan+splitTN");
    tf.tidy(() => f(a, b, p.transA, p.transB)).dispose(); // compile
    timer.start();
    for (let r = 0; r < reps; r++) tf.tidy(() => f(a, b, p.transA, p.transB)).dispose();
    const list = await timer.stop();
    const us = list.reduce((s, d) => s + d.us, 0) / reps;
    const programs = [...new Set(list.map((d) => d.name.split(" ")[0].replace("Program", "")))]
      .join("+");
    const tflops = 2 * p.m * p.n * p.k / us / 1e6;
    cells.push(`${name} ${us.toFixed(0)} µs (${tflops.toFixed(1)} TFLOP/s, ${programs})`);
    totals.set(name, (totals.get(name) ?? 0) + us * p.count);
    if (!name.startsWith("plan")) bestUs = Math.min(bestUs, us);
  }
  setMatMulPlan(true);
  setMatMulTN(false);
  best += bestUs * p.count;
  console.log(`${productKey(p)} ×${p.count} [${p.label}]: ${cells.join("; ")}`);
  a.dispose();
  b.dispose();
}
totals = new Map([...totals].sort((x, y) => x[1] - y[1]));
console.log(
  `matmul-types: step's Linear products on the GPU: ${
    [...totals].map(([k, us]) => `${k}=${(us / 1000).toFixed(2)}ms`).join(" ")
  } best_per_shape=${(best / 1000).toFixed(2)}ms`,
);
