/**
 * Position-wise feed-forward network (Vaswani et al., 2017, §3.3):
 * FFN(x) = W_2 · dropout(max(0, W_1 x + b_1)) + b_2.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";
import { dropout } from "./dropout.ts";

/** Two linears with a ReLU between: parameters `w_1` (d_model → d_ff) and `w_2` (d_ff → d_model). */
export class PositionwiseFeedForward extends Module {
  /** d_model → d_ff. */
  readonly w1: Linear;
  /** d_ff → d_model. */
  readonly w2: Linear;
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;

  /** @param dModel width @param dFF inner width @param dropoutRate dropout after the ReLU */
  constructor(dModel: number, dFF: number, readonly dropoutRate: number, rng: Rng) {
    super();
    this.w1 = this.child("w_1", new Linear(dModel, dFF, rng));
    this.w2 = this.child("w_2", new Linear(dFF, dModel, rng));
    this.dropRng = rng.fork();
  }

  /** x [..., d_model] → [..., d_model]. */
  apply(x: tf.Tensor): tf.Tensor {
    const hidden = dropout(
      tf.relu(this.w1.apply(x)),
      this.dropoutRate,
      this.dropRng,
      this.training,
    );
    return this.w2.apply(hidden);
  }
}
