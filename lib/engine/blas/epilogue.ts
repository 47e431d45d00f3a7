/**
 * The epilogue of a fused matmul: `y = activation(x + bias)`, done in place on
 * the output's heap view, with TF.js's definitions of each activation.
 *
 * @module
 */
import { broadcastIndex, sizeOf } from "./heap.ts";

/** Activations TF.js's `fused.matMul` accepts. */
export type FusedActivation =
  | "linear"
  | "relu"
  | "relu6"
  | "elu"
  | "sigmoid"
  | "leakyrelu"
  | "prelu";

/** A float32 operand with its shape. */
export interface Operand {
  data: Float32Array;
  shape: readonly number[];
}

/** True when `shape` is `[..., 1, 1, n]` with `n` the output's last dimension: one bias per column. */
export function isRowVector(shape: readonly number[], outShape: readonly number[]): boolean {
  const n = outShape[outShape.length - 1];
  return shape.length >= 1 && shape[shape.length - 1] === n && sizeOf(shape) === n;
}

/** `out += bias`, broadcasting `bias` against `outShape` (NumPy rules). */
export function addBias(out: Float32Array, outShape: readonly number[], bias: Operand): void {
  const n = outShape[outShape.length - 1] ?? 1;
  const b = bias.data;
  if (b.length === 1) {
    const v = b[0];
    for (let i = 0; i < out.length; i++) out[i] += v;
  } else if (isRowVector(bias.shape, outShape)) {
    for (let r = 0; r < out.length; r += n) {
      for (let j = 0; j < n; j++) out[r + j] += b[j];
    }
  } else {
    const idx = broadcastIndex(outShape, bias.shape);
    for (let i = 0; i < out.length; i++) out[i] += b[idx[i]];
  }
}

/**
 * Applies `activation` in place. `alpha` is leakyrelu's slope; `prelu` the
 * PReLU slopes, broadcast against `outShape`.
 */
export function activate(
  out: Float32Array,
  outShape: readonly number[],
  activation: FusedActivation | string,
  alpha = 0.2,
  prelu?: Operand,
): void {
  const n = out.length;
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < n; i++) if (out[i] < 0) out[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < n; i++) {
        const v = out[i];
        out[i] = v < 0 ? 0 : v > 6 ? 6 : v;
      }
      return;
    case "elu":
      for (let i = 0; i < n; i++) {
        const v = out[i];
        if (v < 0) out[i] = Math.expm1(v);
      }
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
      return;
    case "leakyrelu":
      for (let i = 0; i < n; i++) {
        const v = out[i];
        if (v < 0) out[i] = alpha * v;
      }
      return;
    case "prelu": {
      if (!prelu) throw new Error("fused matMul: activation prelu needs preluActivationWeights");
      const w = prelu.data;
      const idx = w.length === 1 ? null : broadcastIndex(outShape, prelu.shape);
      for (let i = 0; i < n; i++) {
        const v = out[i];
        if (v < 0) out[i] = (idx ? w[idx[i]] : w[0]) * v;
      }
      return;
    }
    default:
      throw new Error(
        `fused matMul: unknown activation "${activation}" ` +
          `(use linear, relu, relu6, elu, sigmoid, leakyrelu or prelu)`,
      );
  }
}
