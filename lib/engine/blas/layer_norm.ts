/**
 * The Annotated Transformer's LayerNorm fused into one forward and one
 * backward pass on the wasm heap (blas backend).
 *
 * Per row x of width n, with d = max(n − 1, 1):
 *
 *   μ = Σx / n,  σ = √(Σ(x − μ)² / d),  s = σ + ε,  y = a · (x − μ) / s + b.
 *
 * The tensor formula in `lib/nn/layer_norm.ts` takes about a dozen kernels
 * forward and two dozen backward, each a pass over the activations with its
 * own engine bookkeeping; here each direction is one pass per row. With
 * x̂ = (x − μ)/s and g = ∂y · a, the backward pass is
 *
 *   ∂x = (g − mean(g)) / s − (x − μ) · Σ(g · (x − μ)) / (s² · d · σ),
 *   ∂a = Σ_rows ∂y · x̂,  ∂b = Σ_rows ∂y,
 *
 * (the second term of ∂x is the std's derivative, dropped where σ = 0).
 * Rows a multiple of 4 wide run as SIMD WebAssembly (`layer_norm_simd.ts`,
 * float32 sums), others as JavaScript loops (float64 sums). Kernels follow
 * the zero-copy rule of `heap.ts`: outputs are allocated first, views and
 * addresses are taken after.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { simdKernels } from "./wasm_asm.ts";
import { f32, offsetOf, type WasmBackend } from "./heap.ts";
import { type LayerNormSimd, layerNormSimdFor } from "./layer_norm_simd.ts";

let simdOn = true;

/** Turns the SIMD loops off (JavaScript loops only) or back on: for tests and comparisons. */
export function setLayerNormSimd(on: boolean): void {
  simdOn = on;
}

/** The SIMD kernels for this backend's memory, when rows are a multiple of 4 wide. */
function simdFor(backend: WasmBackend, n: number): LayerNormSimd | null {
  return simdKernels(backend.wasm, n, simdOn, layerNormSimdFor);
}

function outputs(backend: WasmBackend, shapes: number[][]): tf.TensorInfo[] {
  return shapes.map((s) => backend.makeOutput(s, "float32"));
}

function tensors(infos: tf.TensorInfo[]): tf.Tensor[] {
  return infos.map((i) => tf.engine().makeTensorFromTensorInfo(i));
}

/** Forward: `[y, stats]`, stats [rows, 2] holding μ and σ per row. */
function forward(
  backend: WasmBackend,
  x: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  eps: number,
): [tf.Tensor, tf.Tensor] {
  const n = x.shape[x.rank - 1];
  const rows = x.size / n;
  const d = Math.max(n - 1, 1);
  const [yInfo, statsInfo] = outputs(backend, [x.shape, [rows, 2]]);
  const simd = simdFor(backend, n);
  if (simd) {
    const [px, pa, pb, py, ps] = [x, a, b, yInfo, statsInfo].map((t) => offsetOf(backend, t));
    simd.ln_forward(px, pa, pb, py, ps, rows, n, eps, n, d);
    return tensors([yInfo, statsInfo]) as [tf.Tensor, tf.Tensor];
  }
  const xs = f32(backend, x), as = f32(backend, a), bs = f32(backend, b);
  const ys = f32(backend, yInfo), st = f32(backend, statsInfo);
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let sum = 0;
    for (let j = o; j < o + n; j++) sum += xs[j];
    const mu = sum / n;
    let ss = 0;
    for (let j = o; j < o + n; j++) ss += (xs[j] - mu) * (xs[j] - mu);
    const sigma = Math.sqrt(ss / d);
    const inv = 1 / (sigma + eps);
    for (let j = 0; j < n; j++) ys[o + j] = as[j] * ((xs[o + j] - mu) * inv) + bs[j];
    st[2 * r] = mu;
    st[2 * r + 1] = sigma;
  }
  return tensors([yInfo, statsInfo]) as [tf.Tensor, tf.Tensor];
}

/** Backward: `[∂x, ∂a, ∂b]`. */
function backward(
  backend: WasmBackend,
  dy: tf.Tensor,
  x: tf.Tensor,
  a: tf.Tensor,
  stats: tf.Tensor,
  eps: number,
): tf.Tensor[] {
  const n = x.shape[x.rank - 1];
  const rows = x.size / n;
  const d = Math.max(n - 1, 1);
  const [dxInfo, daInfo, dbInfo] = outputs(backend, [x.shape, [n], [n]]);
  const simd = simdFor(backend, n);
  if (simd) {
    f32(backend, daInfo).fill(0);
    f32(backend, dbInfo).fill(0);
    const [pdy, px, pa, ps, pdx, pda, pdb] = [dy, x, a, stats, dxInfo, daInfo, dbInfo].map((t) =>
      offsetOf(backend, t)
    );
    simd.ln_backward(pdy, px, pa, ps, pdx, pda, pdb, rows, n, eps, n, d);
    return tensors([dxInfo, daInfo, dbInfo]);
  }
  const xs = f32(backend, x), as = f32(backend, a), st = f32(backend, stats);
  const g = f32(backend, dy), dx = f32(backend, dxInfo);
  const da = new Float64Array(n), db = new Float64Array(n);
  const ga = new Float64Array(n); // g·a of the current row
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const mu = st[2 * r], sigma = st[2 * r + 1];
    const inv = 1 / (sigma + eps);
    let sumG = 0, sumGX = 0;
    for (let j = 0; j < n; j++) {
      const gj = g[o + j] * as[j];
      ga[j] = gj;
      sumG += gj;
      sumGX += gj * (xs[o + j] - mu);
    }
    const meanG = sumG / n;
    const k = sigma > 0 ? sumGX * inv * inv / (d * sigma) : 0;
    for (let j = 0; j < n; j++) {
      const xc = xs[o + j] - mu;
      const gy = g[o + j];
      dx[o + j] = (ga[j] - meanG) * inv - xc * k;
      da[j] += gy * xc * inv;
      db[j] += gy;
    }
  }
  f32(backend, daInfo).set(da);
  f32(backend, dbInfo).set(db);
  return tensors([dxInfo, daInfo, dbInfo]);
}

/**
 * Whether a fused LayerNorm handles these operands: float32, a non-empty last
 * axis of width n, gain and shift of shape [n].
 */
export function layerNormApplies(x: tf.Tensor, a: tf.Tensor, b: tf.Tensor): boolean {
  if (x.rank < 1 || x.size === 0) return false;
  const n = x.shape[x.rank - 1];
  if ([x, a, b].some((t) => t.dtype !== "float32")) return false;
  return a.rank === 1 && b.rank === 1 && a.size === n && b.size === n;
}

/**
 * LN(x) = a · (x − μ) / (σ + ε) + b over the last axis (σ the unbiased std),
 * in one pass each way, or `null` where the fused path does not apply (not
 * the wasm backend, not float32, or gain and shift not [n]); callers then use
 * the tensor formula. Differentiable w.r.t. x, a and b.
 */
export function fusedLayerNormWasm(
  x: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  eps: number,
): tf.Tensor | null {
  if (tf.getBackend() !== "wasm" || !layerNormApplies(x, a, b)) return null;
  const backend = tf.backend() as unknown as WasmBackend;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, ai, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, stats] = forward(backend, xi, ai, bi, eps);
    save([xi, ai, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sa, sstats] = saved;
        return backward(backend, dy, sx, sa, sstats, eps);
      },
    };
  });
  return op(x, a, b) as tf.Tensor;
}
