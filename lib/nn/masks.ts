/**
 * Attention masks. A mask holds 1 where a query may attend to a key and 0
 * where it may not; it broadcasts against scores [B, (h,) T_q, T_k].
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The subsequent (causal) mask [1, size, size]: position i may attend to
 * positions j ≤ i. float32, lower triangle of ones.
 */
export function subsequentMask(size: number): tf.Tensor3D {
  const data = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) data[i * size + j] = 1;
  return tf.tensor3d(data, [1, size, size], "float32");
}

/** The padding mask [B, 1, T] of token ids [B, T]: 1 where the id is not `pad`. float32. */
export function paddingMask(ids: tf.Tensor, pad = 0): tf.Tensor3D {
  if (ids.rank !== 2) throw new Error(`paddingMask expects ids [B, T], got shape [${ids.shape}]`);
  return tf.tidy(() => tf.notEqual(ids, pad).toFloat().expandDims(1) as tf.Tensor3D);
}

/**
 * The decoder's target mask [B, T, T]: not padding and not a future position
 * (the reference's `Batch.make_std_mask`).
 */
export function targetMask(tgt: tf.Tensor, pad = 0): tf.Tensor3D {
  return tf.tidy(() => {
    const sub = subsequentMask(tgt.shape[1]!);
    return tf.mul(paddingMask(tgt, pad), sub) as tf.Tensor3D;
  });
}
