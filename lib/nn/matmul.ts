/**
 * `matmul(a, b)`: a plain (batched) matrix product whose forward and backward
 * passes use only untransposed products, with explicit transposes, where
 * that is faster; elsewhere TF.js's own product with transpose flags.
 *
 * The stock wasm backend multiplies more slowly when asked to transpose an
 * operand (`transposeA`/`transposeB`): 1.3–2× for [320, 64]·[64, 128]ᵀ on a
 * 2-core x86 machine; and TF.js's own MatMul gradient asks for exactly that.
 * Here y = a·b, ∂a = ∂y·bᵀ and ∂b = aᵀ·∂y are all computed as untransposed
 * products of explicitly transposed tensors. Leading (batch)
 * dimensions of `a` and `b` must be equal: no broadcasting (also a wasm bug).
 *
 * The blas backend (OpenBLAS `sgemm`) transposes an operand for free inside
 * the product, so there the explicit transposes are pure cost (on the bench
 * model: about 70 `Transpose` kernels a step, 8% of blas's step). On webgpu
 * the product kernels themselves decide which operand to copy transposed
 * (`lib/engine/webgpu/matmul.ts`, from GPU timings), for every caller. Both
 * get `tf.matMul` with transpose flags, and TF.js's gradient, which also
 * uses flags.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { blasInstalled } from "../engine/blas/mod.ts";

let explicitTransposes = false;

/** Forces the explicit-transpose products everywhere (for comparisons and tests). */
export function setExplicitTransposes(on: boolean): void {
  explicitTransposes = on;
}

/** Whether the current backend multiplies transposed operands at no extra cost. */
export function nativeTransposes(): boolean {
  if (explicitTransposes) return false;
  const b = tf.getBackend();
  return b === "webgpu" || (b === "wasm" && blasInstalled());
}

function swapLast(x: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.transpose(x);
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

const product = tf.customGrad((a, b, save) => {
  const ta = a as tf.Tensor, tb = b as tf.Tensor;
  (save as tf.GradSaveFunc)([ta, tb]);
  return {
    value: tf.matMul(ta, tb),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
    },
  };
});

/** a [..., m, k] · b [..., k, n] → [..., m, n], with equal leading dims. */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== b.rank || a.shape.slice(0, -2).join(",") !== b.shape.slice(0, -2).join(",")) {
    throw new Error(`matmul: leading dims of [${a.shape}] and [${b.shape}] must be equal`);
  }
  return nativeTransposes() ? tf.matMul(a, b) : product(a, b) as tf.Tensor;
}

/** a · bᵀ over the last two axes. */
export function matmulT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (nativeTransposes()) {
    if (a.rank !== b.rank || a.shape.slice(0, -2).join(",") !== b.shape.slice(0, -2).join(",")) {
      throw new Error(`matmulT: leading dims of [${a.shape}] and [${b.shape}] must be equal`);
    }
    return tf.matMul(a, b, false, true);
  }
  return matmul(a, swapLast(b));
}
