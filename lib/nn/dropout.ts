/**
 * Dropout (Srivastava et al., 2014), inverted: kept units are scaled by
 * 1/(1−p) while training, so evaluation is the identity.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../engine/rng.ts";

/**
 * Zeroes each element of `x` with probability `rate` and scales the rest by
 * 1/(1−rate). The mask's seed is drawn from `rng`, so a run is reproducible.
 * Returns `x` itself when not training or when `rate` is 0.
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  if (rate >= 1) {
    throw new Error(`dropout rate ${rate} must be below 1: choose model.dropout in [0, 1)`);
  }
  return tf.dropout(x, rate, undefined, rng.seed());
}
