/**
 * Label smoothing (Szegedy et al., 2016) in the Annotated Transformer's form:
 * the target distribution q puts 1 − ε on the true token, ε / (V − 2) on every
 * other token except the padding token, and nothing on rows whose target is
 * padding; the loss is KL(q ‖ p) summed over the batch,
 *
 *   loss = Σ_n Σ_v q_nv (log q_nv − x_nv),  x = log p (the generator's output).
 *
 * Rows whose target is padding are zeroed by multiplying with a row mask. The
 * reference zeroes them with `index_fill_(0, nonzero(target == pad).squeeze(), 0)`,
 * whose index is empty when a batch has no padding (and 0-d with exactly one
 * padding row), which older PyTorch releases rejected; the mask form is
 * correct for every batch, and the no-padding case is in the parity fixtures.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The label-smoothed KL criterion. */
export class LabelSmoothing {
  /** Mass on the true token, 1 − ε. */
  readonly confidence: number;

  /**
   * @param size vocabulary size V (> 2)
   * @param paddingIdx the padding token, which never receives mass
   * @param smoothing ε in [0, 1)
   */
  constructor(readonly size: number, readonly paddingIdx: number, readonly smoothing = 0) {
    if (size <= 2) throw new Error(`LabelSmoothing needs a vocabulary of more than 2, got ${size}`);
    if (!(smoothing >= 0 && smoothing < 1)) {
      throw new Error(`label smoothing ${smoothing} must be in [0, 1): set train.labelSmoothing`);
    }
    this.confidence = 1 - smoothing;
  }

  /** The smoothed target distribution q [N, V] for targets [N]. */
  trueDistribution(target: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const t = target.reshape([-1]).toInt();
      const oneHot = tf.oneHot(t, this.size).toFloat();
      const fill = this.smoothing / (this.size - 2);
      const dist = tf.add(tf.mul(oneHot, this.confidence - fill), fill);
      const col = tf.oneHot(tf.scalar(this.paddingIdx, "int32"), this.size).toFloat();
      const keepCol = tf.sub(1, col);
      const keepRow = tf.notEqual(t, this.paddingIdx).toFloat().expandDims(1);
      return tf.mul(tf.mul(dist, keepCol), keepRow) as tf.Tensor2D;
    });
  }

  /** KL(q ‖ exp(x)) summed: `x` log-probabilities [N, V] (or [..., V]), `target` ids [N]. */
  apply(x: tf.Tensor, target: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const logp = x.reshape([-1, this.size]);
      if (logp.shape[0] !== target.size) {
        throw new Error(
          `LabelSmoothing: ${target.size} targets for ${
            logp.shape[0]
          } rows of log-probs [${x.shape}]`,
        );
      }
      const q = this.trueDistribution(target);
      const safe = tf.where(tf.greater(q, 0), q, tf.onesLike(q));
      const entropyTerm = tf.sum(tf.mul(q, tf.log(safe)));
      return tf.sub(entropyTerm, tf.sum(tf.mul(q, logp))) as tf.Scalar;
    });
  }
}
