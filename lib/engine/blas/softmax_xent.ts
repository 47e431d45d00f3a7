/**
 * Fused softmax cross-entropy on the wasm heap (blas backend).
 *
 * For logits `z` [N, C] and class indices `y` [N], the loss is
 * `s · Σ_n (lse(z_n) − z_n[y_n])` with `lse(z) = max z + log Σ_c e^(z_c − max z)`
 * and `s` = 1/N (mean) or 1 (sum). Its gradient is `s · dy · (softmax(z_n) − onehot(y_n))`.
 *
 * The forward pass walks each row (max, then exponentials and their sum while
 * the row is in cache) and keeps `e = exp(z − max)` and `1/Σe` per row, so the
 * backward pass is one pass: `g = (s·dy/Σe)·e`, minus `s·dy` at each label. Rows whose label is
 * outside [0, C) are ignored as the stock `crossEntropy` ignores them (a one-hot
 * of an out-of-range index is all zeros): they add 0 to the loss (NaN if their
 * logits are NaN) and get a zero gradient, but still count in the mean's N.
 *
 * Class counts that are a multiple of 4 run as SIMD WebAssembly
 * (`softmax_xent_simd.ts`); others as JavaScript loops.
 *
 * Kernels follow the zero-copy rule of `heap.ts`: outputs are allocated first,
 * views are taken after.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { simdKernels } from "./wasm_asm.ts";
import { f32, offsetOf, view, type WasmBackend } from "./heap.ts";
import { type XentSimd, xentSimdFor } from "./softmax_xent_simd.ts";

let simdOn = true;

/** Turns the SIMD loops off (JavaScript loops only) or back on: for tests and comparisons. */
export function setXentSimd(on: boolean): void {
  simdOn = on;
}

/** The SIMD kernels for this backend's memory, when the class count is a multiple of 4. */
function simdFor(backend: WasmBackend, c: number): XentSimd | null {
  return simdKernels(backend.wasm, c, simdOn, xentSimdFor);
}

/** How per-row losses are combined. */
export type XentReduction = "mean" | "sum";

/** 2^(i−160) for i = 0…160 (enough for every float32 exponential of a value ≤ 0). */
const POW2 = Float64Array.from({ length: 161 }, (_, i) => 2 ** (i - 160));

/**
 * e^x for x ≤ 0 to about 1e-8 relative (float32 needs 6e-8): x = k·ln2 + r with
 * |r| ≤ ln2/2, e^r by its Taylor series to r^7, then × 2^k. Several times faster
 * than `Math.exp` in V8. NaN gives NaN; x < −110 gives 0 (below float32's range).
 */
function expNonPositive(x: number): number {
  if (x < -110) return 0;
  const k = (x * Math.LOG2E - 0.5) | 0; // round to nearest, as a small integer
  const r = x - k * Math.LN2;
  const e = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 +
                            r * (1 / 5040)))))));
  return e * POW2[k + 160];
}

function wasmBackend(): WasmBackend {
  if (tf.getBackend() !== "wasm") {
    throw new Error(
      `softmaxCrossEntropy: needs the wasm backend (blas kernels), not "${tf.getBackend()}"; ` +
        `use crossEntropy from lib/nn/losses.ts instead`,
    );
  }
  return tf.backend() as unknown as WasmBackend;
}

/**
 * Forward kernel: returns `[loss scalar, e [N, C], inv [N]]` as new tensors, where
 * `e = exp(z − max z)` row by row and `inv = 1/Σ e`, so `softmax = inv·e`.
 * The exponentials and each row's (max, Σe) come from the SIMD kernel
 * (float32 sums) or the JavaScript loop (float64); the loss is then summed in
 * float64 from those.
 */
function forward(
  backend: WasmBackend,
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  scale: number,
): [tf.Scalar, tf.Tensor2D, tf.Tensor1D] {
  const [n, c] = logits.shape;
  const engine = tf.engine();
  const lossInfo = backend.makeOutput([], "float32");
  const eInfo = backend.makeOutput([n, c], "float32");
  const invInfo = backend.makeOutput([n], "float32");
  const simd = simdFor(backend, c);
  const statsInfo = simd ? backend.makeOutput([n, 2], "float32") : undefined;
  // Every allocation is done: views from here on stay attached.
  const z = f32(backend, logits);
  const y = view(backend, labels) as Int32Array;
  const inv = f32(backend, invInfo);
  let stats: Float32Array | Float64Array;
  if (simd && statsInfo) {
    const [pz, pe, ps] = [logits, eInfo, statsInfo].map((t) => offsetOf(backend, t));
    simd.xent_forward(pz, pe, ps, n, c);
    stats = f32(backend, statsInfo);
  } else {
    const e = f32(backend, eInfo);
    stats = new Float64Array(2 * n);
    for (let r = 0, o = 0; r < n; r++, o += c) {
      let m = -Infinity;
      for (let j = o; j < o + c; j++) if (z[j] > m || z[j] !== z[j]) m = z[j];
      let sum = 0;
      for (let j = o; j < o + c; j++) {
        const v = expNonPositive(z[j] - m);
        e[j] = v;
        sum += v;
      }
      stats[2 * r] = m;
      stats[2 * r + 1] = sum;
    }
  }
  let total = 0;
  for (let r = 0; r < n; r++) {
    const sum = stats[2 * r + 1];
    inv[r] = 1 / sum;
    const lse = stats[2 * r] + Math.log(sum);
    const t = y[r];
    total += t >= 0 && t < c ? lse - z[r * c + t] : 0 * lse;
  }
  f32(backend, lossInfo)[0] = total * scale;
  if (statsInfo) backend.disposeData(statsInfo.dataId);
  return [
    engine.makeTensorFromTensorInfo(lossInfo) as tf.Scalar,
    engine.makeTensorFromTensorInfo(eInfo) as tf.Tensor2D,
    engine.makeTensorFromTensorInfo(invInfo) as tf.Tensor1D,
  ];
}

/**
 * Backward kernel: `g = k·(inv·e − onehot(y))`, ignored rows zero: the scaled
 * exponentials by the SIMD kernel or a JavaScript loop, then the labels.
 */
function backward(
  backend: WasmBackend,
  saved: tf.Tensor[],
  k: number,
): tf.Tensor2D {
  const [eT, invT, labels] = saved;
  const [n, c] = eT.shape;
  const gInfo = backend.makeOutput([n, c], "float32");
  const simd = simdFor(backend, c);
  const kInfo = simd ? backend.makeOutput([n], "float32") : undefined;
  // Every allocation is done.
  const inv = f32(backend, invT);
  const g = f32(backend, gInfo);
  if (simd && kInfo) {
    const kr = f32(backend, kInfo);
    for (let r = 0; r < n; r++) kr[r] = k * inv[r];
    const [pe, pk, pg] = [eT, kInfo, gInfo].map((t) => offsetOf(backend, t));
    simd.xent_backward(pe, pk, pg, n, c);
    backend.disposeData(kInfo.dataId);
  } else {
    const e = f32(backend, eT);
    for (let r = 0, o = 0; r < n; r++, o += c) {
      const kr = k * inv[r];
      for (let j = o; j < o + c; j++) g[j] = kr * e[j];
    }
  }
  const y = view(backend, labels) as Int32Array;
  for (let r = 0, o = 0; r < n; r++, o += c) {
    const t = y[r];
    if (t >= 0 && t < c) g[o + t] -= k;
    else g.fill(0, o, o + c);
  }
  return tf.engine().makeTensorFromTensorInfo(gInfo) as tf.Tensor2D;
}

/**
 * Softmax cross-entropy of `logits` [N, C] (float32) against int32 `labels` [N],
 * fused into one forward and one backward kernel on the wasm heap
 * (differentiable w.r.t. `logits` through `tf.customGrad`). Same value and
 * gradient as `crossEntropy` in lib/nn/losses.ts. Needs the wasm backend.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  reduction: XentReduction = "mean",
): tf.Scalar {
  const backend = wasmBackend();
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `softmaxCrossEntropy: logits must be [N, C] and labels [N]; got [${logits.shape}] ` +
        `and [${labels.shape}]`,
    );
  }
  if (logits.dtype !== "float32" || labels.dtype !== "int32") {
    throw new Error(
      `softmaxCrossEntropy: logits must be float32 and labels int32; got ${logits.dtype} ` +
        `and ${labels.dtype} (cast labels with .toInt())`,
    );
  }
  const scale = reduction === "mean" ? 1 / Math.max(logits.shape[0], 1) : 1;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [loss, e, inv] = forward(backend, x, labels, scale);
    save([e, inv, labels]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const k = scale * (dy.dataSync()[0] as number);
        return backward(backend, saved, k);
      },
    };
  });
  return op(logits) as tf.Scalar;
}
