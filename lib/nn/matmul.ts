/**
 * `matmul(a, b)`: a plain (batched) matrix product whose forward and backward
 * passes use only untransposed products, with explicit transposes.
 *
 * The stock wasm backend multiplies more slowly when asked to transpose an
 * operand (`transposeA`/`transposeB`): 1.3–2× for [320, 64]·[64, 128]ᵀ on a
 * 2-core x86 machine; and TF.js's own MatMul gradient asks for exactly that.
 * Here y = a·b, ∂a = ∂y·bᵀ and ∂b = aᵀ·∂y are all computed as untransposed
 * products of explicitly transposed tensors. Leading (batch)
 * dimensions of `a` and `b` must be equal: no broadcasting (also a wasm bug).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

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
  return product(a, b) as tf.Tensor;
}

/** a · bᵀ over the last two axes (b transposed explicitly). */
export function matmulT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return matmul(a, swapLast(b));
}
