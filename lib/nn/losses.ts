/**
 * Classification losses, computed stably from logits.
 *
 * - {@link crossEntropy}: softmax cross-entropy for one label per example,
 *   −(1/N) Σ_n log softmax(z_n)[y_n];
 * - {@link binaryCrossEntropyWithLogits}: sigmoid cross-entropy for multi-label targets,
 *   mean of max(z, 0) − z·t + log(1 + e^(−|z|)).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { blasInstalled } from "../engine/blas/mod.ts";
import { softmaxCrossEntropy } from "../engine/blas/softmax_xent.ts";
import { softmaxCrossEntropyWebGPU } from "../engine/webgpu/softmax_xent.ts";

/** How per-example losses are combined. */
export type Reduction = "mean" | "sum";

/**
 * Softmax cross-entropy. `logits` [N, C]; `labels` int32 class indices [N].
 * Rows whose label is outside [0, C) add 0 to the loss and get no gradient (they
 * still count in the mean). With the blas kernels installed this runs as one fused
 * kernel each way (`softmaxCrossEntropy` in lib/engine/blas/softmax_xent.ts), on
 * webgpu in three dispatches (`lib/engine/webgpu/softmax_xent.ts`).
 */
export function crossEntropy(
  logits: tf.Tensor,
  labels: tf.Tensor,
  reduction: Reduction = "mean",
): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[logits.rank - 1];
    if (labels.size !== logits.size / c) {
      throw new Error(
        `crossEntropy: ${labels.size} labels for ${
          logits.size / c
        } rows of logits [${logits.shape}]`,
      );
    }
    const flat = logits.reshape([-1, c]);
    if (
      flat.shape[0] > 0 && logits.dtype === "float32" && tf.getBackend() === "wasm" &&
      blasInstalled()
    ) {
      // Fast path (blas backend): one fused kernel forward, one backward.
      return softmaxCrossEntropy(
        flat as tf.Tensor2D,
        labels.reshape([-1]).toInt() as tf.Tensor1D,
        reduction,
      );
    }
    if (flat.shape[0] > 0 && tf.getBackend() === "webgpu") {
      const fused = softmaxCrossEntropyWebGPU(
        flat as tf.Tensor2D,
        labels.reshape([-1]).toInt() as tf.Tensor1D,
        reduction,
      );
      if (fused) return fused;
    }
    const picked = tf.sum(
      tf.mul(tf.logSoftmax(flat, -1), tf.oneHot(labels.reshape([-1]).toInt(), c)),
      -1,
    );
    const total = tf.neg(tf.sum(picked));
    return (reduction === "sum" ? total : tf.div(total, picked.size)) as tf.Scalar;
  });
}

/**
 * Sigmoid binary cross-entropy from logits (multi-label). `logits` and
 * `targets` (0/1 or soft, float) have the same shape; the mean is over all elements.
 */
export function binaryCrossEntropyWithLogits(
  logits: tf.Tensor,
  targets: tf.Tensor,
  reduction: Reduction = "mean",
): tf.Scalar {
  return tf.tidy(() => {
    if (logits.shape.join(",") !== targets.shape.join(",")) {
      throw new Error(
        `binaryCrossEntropy: logits [${logits.shape}] and targets [${targets.shape}] differ in shape`,
      );
    }
    const t = targets.toFloat();
    const per = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, t)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    return (reduction === "sum" ? tf.sum(per) : tf.mean(per)) as tf.Scalar;
  });
}

/** Same as {@link binaryCrossEntropyWithLogits} (takes logits, not probabilities). */
export const binaryCrossEntropy = binaryCrossEntropyWithLogits;
