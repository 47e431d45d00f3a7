/**
 * `Sum` over leading or trailing axes by `cblas_sgemv` with a vector of ones.
 *
 * Gradients of broadcast adds (biases, residuals) are sums over the leading
 * axes, which the stock wasm kernel does by transposing first. Viewing `x` as
 * a matrix `[R, C]`, a sum over the leading axes is `1ᵀ·X` and a sum over the
 * trailing axes is `X·1`: one sgemv, no copy. Other axis sets and non-float
 * dtypes go to the stock kernel.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { heapAddress, nativeAddress, offsetOf, sizeOf, type WasmKernelArgs } from "./heap.ts";
import { CBLAS, type OpenBlas } from "./openblas.ts";

/** Normalised, sorted, de-duplicated axes. */
function normAxes(axis: number | number[], rank: number): number[] {
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/** The `Sum` kernel function on `blas`. */
export function blasSum(
  blas: OpenBlas,
  fallback: (args: WasmKernelArgs) => tf.TensorInfo,
): (args: WasmKernelArgs) => tf.TensorInfo {
  let ones = new Float32Array(0);
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = normAxes(axis, rank);
    if (x.dtype !== "float32" || axes.length === 0 || sizeOf(x.shape) === 0) {
      return fallback(args);
    }
    const leading = axes.every((a, i) => a === i);
    const trailing = axes.every((a, i) => a === rank - axes.length + i);
    if (!leading && !trailing) return fallback(args);
    const reduced = axes.map((a) => x.shape[a]);
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    const R = leading ? sizeOf(reduced) : sizeOf(kept);
    const C = leading ? sizeOf(kept) : sizeOf(reduced);
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
    const need = leading ? R : C;
    // At least 64 floats, so that V8 keeps the data off its moving heap.
    if (ones.length < need) ones = new Float32Array(Math.max(need, 64)).fill(1);
    const out = args.backend.makeOutput(outShape, "float32");
    const base = heapAddress(args.backend);
    const px = base + offsetOf(args.backend, x), py = base + offsetOf(args.backend, out);
    const p1 = nativeAddress(ones);
    blas.fn.cblas_sgemv(
      CBLAS.RowMajor,
      leading ? CBLAS.Trans : CBLAS.NoTrans,
      R,
      C,
      1,
      px,
      C,
      p1,
      1,
      0,
      py,
      1,
    );
    return out;
  };
}
