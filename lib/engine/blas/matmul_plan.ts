/**
 * The shape arithmetic of a batched matmul `C[i] = op(A[ia]) · op(B[ib])`,
 * with NumPy broadcasting of the batch dimensions (as `tf.matMul` defines it).
 *
 * @module
 */
import { broadcastIndex, broadcastShapes, sizeOf } from "./heap.ts";

/** How a batched matmul maps onto 2-D products. */
export interface MatMulPlan {
  /** Output shape: broadcast batch dims, then `[M, N]`. */
  outShape: number[];
  /** Number of 2-D products. */
  batch: number;
  /** Rows of `op(A)`, columns of `op(B)`, and the shared inner dimension. */
  M: number;
  N: number;
  K: number;
  /** Number of matrices stored in `a` and in `b`. */
  aBatch: number;
  bBatch: number;
  /** For product `i`, which matrix of `a` / `b` it reads (null: the identity map `i`). */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
}

/** Plans `matMul(a, b, transposeA, transposeB)`; throws on mismatched shapes. */
export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matMul needs rank >= 2, got shapes [${aShape}] and [${bShape}]`);
  }
  const ra = aShape.length, rb = bShape.length;
  const M = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const Ka = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const Kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const N = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ` +
        `${aShape} and ${bShape} and transposeA=${transposeA} and transposeB=${transposeB} ` +
        `must match.`,
    );
  }
  const aOuter = aShape.slice(0, -2), bOuter = bShape.slice(0, -2);
  const outer = broadcastShapes(aOuter, bOuter);
  const batch = sizeOf(outer);
  const aBatch = sizeOf(aOuter), bBatch = sizeOf(bOuter);
  // Broadcasting only expands size-1 dims, so an operand with as many
  // matrices as the output maps product i to its own matrix i.
  const aIndex = aBatch === batch
    ? null
    : aBatch === 1
    ? new Int32Array(batch)
    : broadcastIndex(outer, aOuter);
  const bIndex = bBatch === batch
    ? null
    : bBatch === 1
    ? new Int32Array(batch)
    : broadcastIndex(outer, bOuter);
  return { outShape: [...outer, M, N], batch, M, N, K: Ka, aBatch, bBatch, aIndex, bIndex };
}
