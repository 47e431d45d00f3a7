/**
 * The gradient of `BatchMatMul` with batch broadcasting.
 *
 * TF.js 4.22's registered gradient returns, for an operand whose batch was
 * broadcast (`[3,4]·[2,4,5]`), a gradient with the broadcast batch shape, and
 * the engine then rejects it. This one sums the gradient over the broadcast
 * batch axes and reshapes it to the operand's shape; without broadcasting it
 * is the same as TF.js's.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Sums `g` down to `shape` over the axes that were broadcast. */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

/** The gradient config, for `tf.registerGradient`. */
export const batchMatMulGrad: tf.GradConfig = {
  kernelName: "BatchMatMul",
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const g = dy as tf.Tensor;
    let da: () => tf.Tensor, db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => tf.matMul(g, b, false, true);
      db = () => tf.matMul(a, g, true, false);
    } else if (!transposeA && transposeB) {
      da = () => tf.matMul(g, b, false, false);
      db = () => tf.matMul(g, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => tf.matMul(b, g, false, true);
      db = () => tf.matMul(a, g, false, false);
    } else {
      da = () => tf.matMul(b, g, true, true);
      db = () => tf.matMul(g, a, true, true);
    }
    return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
  },
};
