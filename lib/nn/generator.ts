/**
 * The output layer: Generator(x) = log_softmax(x Wᵀ + b) over the vocabulary.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";

/** Linear projection to the vocabulary then log-softmax: parameters `proj.weight`, `proj.bias`. */
export class Generator extends Module {
  /** The projection d_model → vocab. */
  readonly proj: Linear;

  /** @param dModel width @param vocab output vocabulary */
  constructor(dModel: number, readonly vocab: number, rng: Rng) {
    super();
    this.proj = this.child("proj", new Linear(dModel, vocab, rng));
  }

  /** x [..., d_model] → log-probabilities [..., vocab]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.logSoftmax(this.proj.apply(x), -1);
  }
}
