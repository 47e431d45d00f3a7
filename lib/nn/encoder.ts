/**
 * The Transformer encoder (Vaswani et al., 2017, §3.1): N identical layers,
 * each self-attention then a feed-forward, both inside a
 * {@link SublayerConnection}; a final LayerNorm after the stack in the pre-norm
 * form (the post-norm form already ends each layer with a norm).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { ModuleList } from "./module_list.ts";
import { LayerNorm } from "./layer_norm.ts";
import { MultiHeadedAttention } from "./attention.ts";
import { PositionwiseFeedForward } from "./feed_forward.ts";
import type { PositionalKind } from "./positional.ts";
import { type NormPlacement, SublayerConnection } from "./sublayer.ts";

/** One encoder layer: parameters `self_attn.*`, `feed_forward.*`, `sublayer.0..1.norm.*`. */
export class EncoderLayer extends Module {
  /** Self-attention. */
  readonly selfAttn: MultiHeadedAttention;
  /** Feed-forward. */
  readonly feedForward: PositionwiseFeedForward;
  /** The two residual connections. */
  readonly sublayer: ModuleList<SublayerConnection>;

  /**
   * @param size model width
   * @param selfAttn the self-attention module
   * @param feedForward the feed-forward module
   * @param dropoutRate dropout in the residual connections
   * @param rng dropout stream
   * @param norm "pre" (default) or "post"
   */
  constructor(
    readonly size: number,
    selfAttn: MultiHeadedAttention,
    feedForward: PositionwiseFeedForward,
    dropoutRate: number,
    rng: Rng,
    readonly norm: NormPlacement = "pre",
  ) {
    super();
    this.selfAttn = this.child("self_attn", selfAttn);
    this.feedForward = this.child("feed_forward", feedForward);
    this.sublayer = this.child(
      "sublayer",
      new ModuleList([0, 1].map(() => new SublayerConnection(size, dropoutRate, rng, norm))),
    );
  }

  /** x [B, T, d], mask [B, 1, T] → [B, T, d]. */
  apply(x: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    const y = this.sublayer.at(0).apply(x, (z) => this.selfAttn.apply(z, z, z, mask));
    return this.sublayer.at(1).apply(y, (z) => this.feedForward.apply(z));
  }
}

/** A stack of encoder layers (`layers.0..N−1`) and, in the pre-norm form, a final `norm`. */
export class Encoder extends Module {
  /** The layers. */
  readonly layers: ModuleList<EncoderLayer>;
  /** The final norm (pre-norm form only). */
  readonly norm?: LayerNorm;

  /**
   * @param layers the N layers (build each separately; they share nothing)
   * @param finalNorm add the final LayerNorm (default: when the layers are pre-norm)
   */
  constructor(layers: EncoderLayer[], finalNorm = layers[0]?.norm !== "post") {
    super();
    if (!layers.length) throw new Error("Encoder needs at least one layer: set model.layers ≥ 1");
    this.layers = this.child("layers", new ModuleList(layers));
    if (finalNorm) this.norm = this.child("norm", new LayerNorm(layers[0].size));
  }

  /** x [B, T, d], mask [B, 1, T] → [B, T, d]. */
  apply(x: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    for (const layer of this.layers.items) x = layer.apply(x, mask);
    return this.norm ? this.norm.apply(x) : x;
  }
}

/** Sizes of a stack of {@link EncoderLayer}s, defaults already applied. */
export interface EncoderLayerSizes {
  /** Layers. */
  N: number;
  /** Model width d_model. */
  dModel: number;
  /** Attention heads h. */
  h: number;
  /** Feed-forward inner width d_ff. */
  dFF: number;
  /** Dropout everywhere. */
  dropout: number;
  /** Positional scheme (RoPE and ALiBi act inside the self-attention). */
  positional: PositionalKind;
  /** Norm placement. */
  norm: NormPlacement;
}

/**
 * N encoder layers of self-attention then feed-forward, as every stack of
 * self-attention layers here is built (the encoder, the decoder-only model,
 * the sequence encoder). Weights are drawn from `rng` layer by layer, the
 * attention's before the feed-forward's.
 */
export function encoderLayers(s: EncoderLayerSizes, rng: Rng): EncoderLayer[] {
  const { dModel: d, dropout: p } = s;
  return Array.from({ length: s.N }, () =>
    new EncoderLayer(
      d,
      new MultiHeadedAttention(s.h, d, p, rng, { positional: s.positional }),
      new PositionwiseFeedForward(d, s.dFF, p, rng),
      p,
      rng,
      s.norm,
    ));
}
