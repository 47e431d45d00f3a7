/**
 * The Transformer decoder (Vaswani et al., 2017, §3.1): N layers of masked
 * self-attention, attention over the encoder's memory, and a feed-forward,
 * each in a {@link SublayerConnection}; a final LayerNorm in the pre-norm form.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { ModuleList } from "./module_list.ts";
import { LayerNorm } from "./layer_norm.ts";
import type { MultiHeadedAttention } from "./attention.ts";
import type { PositionwiseFeedForward } from "./feed_forward.ts";
import { type NormPlacement, SublayerConnection } from "./sublayer.ts";

/** One decoder layer: `self_attn.*`, `src_attn.*`, `feed_forward.*`, `sublayer.0..2.norm.*`. */
export class DecoderLayer extends Module {
  /** Masked self-attention. */
  readonly selfAttn: MultiHeadedAttention;
  /** Attention over the encoder memory. */
  readonly srcAttn: MultiHeadedAttention;
  /** Feed-forward. */
  readonly feedForward: PositionwiseFeedForward;
  /** The three residual connections. */
  readonly sublayer: ModuleList<SublayerConnection>;

  /**
   * @param size model width
   * @param selfAttn masked self-attention
   * @param srcAttn source attention
   * @param feedForward feed-forward
   * @param dropoutRate dropout in the residual connections
   * @param rng dropout stream
   * @param norm "pre" (default) or "post"
   */
  constructor(
    readonly size: number,
    selfAttn: MultiHeadedAttention,
    srcAttn: MultiHeadedAttention,
    feedForward: PositionwiseFeedForward,
    dropoutRate: number,
    rng: Rng,
    readonly norm: NormPlacement = "pre",
  ) {
    super();
    this.selfAttn = this.child("self_attn", selfAttn);
    this.srcAttn = this.child("src_attn", srcAttn);
    this.feedForward = this.child("feed_forward", feedForward);
    this.sublayer = this.child(
      "sublayer",
      new ModuleList([0, 1, 2].map(() => new SublayerConnection(size, dropoutRate, rng, norm))),
    );
  }

  /** x [B, T, d], memory [B, S, d], srcMask [B, 1, S], tgtMask [B, T, T] → [B, T, d]. */
  apply(x: tf.Tensor, memory: tf.Tensor, srcMask?: tf.Tensor, tgtMask?: tf.Tensor): tf.Tensor {
    x = this.sublayer.at(0).apply(x, (z) => this.selfAttn.apply(z, z, z, tgtMask));
    x = this.sublayer.at(1).apply(x, (z) => this.srcAttn.apply(z, memory, memory, srcMask));
    return this.sublayer.at(2).apply(x, (z) => this.feedForward.apply(z));
  }
}

/** A stack of decoder layers (`layers.0..N−1`) and, in the pre-norm form, a final `norm`. */
export class Decoder extends Module {
  /** The layers. */
  readonly layers: ModuleList<DecoderLayer>;
  /** The final norm (pre-norm form only). */
  readonly norm?: LayerNorm;

  /**
   * @param layers the N layers
   * @param finalNorm add the final LayerNorm (default: when the layers are pre-norm)
   */
  constructor(layers: DecoderLayer[], finalNorm = layers[0]?.norm !== "post") {
    super();
    if (!layers.length) throw new Error("Decoder needs at least one layer: set model.layers ≥ 1");
    this.layers = this.child("layers", new ModuleList(layers));
    if (finalNorm) this.norm = this.child("norm", new LayerNorm(layers[0].size));
  }

  /** Runs every layer, then the final norm. */
  apply(x: tf.Tensor, memory: tf.Tensor, srcMask?: tf.Tensor, tgtMask?: tf.Tensor): tf.Tensor {
    for (const layer of this.layers.items) x = layer.apply(x, memory, srcMask, tgtMask);
    return this.norm ? this.norm.apply(x) : x;
  }
}
