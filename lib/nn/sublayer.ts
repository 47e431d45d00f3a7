/**
 * The residual connection around each sub-layer, with layer norm either
 * before (pre-norm, as the Annotated Transformer) or after (post-norm, as the
 * original paper):
 *
 *   pre:  x + dropout(sublayer(LN(x)))
 *   post: LN(x + dropout(sublayer(x)))
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { LayerNorm } from "./layer_norm.ts";
import { dropout } from "./dropout.ts";

/** Where the layer norm sits relative to the residual sum. */
export type NormPlacement = "pre" | "post";

/** Residual + LayerNorm: parameters `norm.a_2`, `norm.b_2`. */
export class SublayerConnection extends Module {
  /** The layer norm. */
  readonly norm: LayerNorm;
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;

  /**
   * @param size model width
   * @param dropoutRate dropout on the sub-layer's output
   * @param rng dropout stream
   * @param placement "pre" (default) or "post"
   */
  constructor(
    size: number,
    readonly dropoutRate: number,
    rng: Rng,
    readonly placement: NormPlacement = "pre",
  ) {
    super();
    if (placement !== "pre" && placement !== "post") {
      throw new Error(`unknown norm placement "${placement}": use "pre" or "post"`);
    }
    this.norm = this.child("norm", new LayerNorm(size));
    this.dropRng = rng.fork();
  }

  /** Applies `sublayer` with the residual connection and the norm. */
  apply(x: tf.Tensor, sublayer: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
    const drop = (y: tf.Tensor) => dropout(y, this.dropoutRate, this.dropRng, this.training);
    if (this.placement === "pre") return tf.add(x, drop(sublayer(this.norm.apply(x))));
    return this.norm.apply(tf.add(x, drop(sublayer(x))));
  }
}
