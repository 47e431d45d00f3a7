/**
 * The decoder-only Transformer language model (Liu et al., 2018; Radford et
 * al., 2018): token embeddings and positions, N causal blocks, a final norm
 * in the pre-norm form, and the generator:
 *
 *   h_0 = PE(Embeddings(x)),
 *   h_l = FFN-sublayer(SelfAttention-sublayer(h_{l−1}, causal mask)),  l = 1 … N,
 *   p(x_{t+1} | x_{≤t}) = log_softmax(LN(h_N) W + b)   (LN only in the pre-norm form).
 *
 * A block is the encoder layer of Vaswani et al. (2017) — self-attention then
 * a position-wise feed-forward, each in a {@link SublayerConnection} — with
 * the subsequent (causal) mask, so that position t attends to positions ≤ t
 * only: the decoder of the encoder–decoder without its attention over a
 * memory. Positional encodings are those of {@link makePositional}: added to
 * the embeddings (sinusoid, learned) or acting inside attention (RoPE, ALiBi),
 * or none at all (NoPE: causal attention alone carries order, Haviv et al.,
 * 2022).
 *
 * Parameter names follow the PyTorch state dict of the twin in
 * `tools/torch_reference.py`: `embed.0.lut.weight`, `embed.1.pe.weight`
 * (learned table only), `layers.0.self_attn.linears.0.weight`,
 * `layers.0.feed_forward.w_1.weight`, `layers.0.sublayer.0.norm.a_2`,
 * `norm.a_2` (pre-norm only), `generator.proj.weight`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { ModuleList, Sequential } from "./module_list.ts";
import { Embeddings } from "./embeddings.ts";
import type { MultiHeadedAttention } from "./attention.ts";
import { type EncoderLayer, encoderLayers } from "./encoder.ts";
import { LayerNorm } from "./layer_norm.ts";
import { Generator } from "./generator.ts";
import { subsequentMask } from "./masks.ts";
import { makePositional, type PositionalStage } from "./positional.ts";
import { modelOptionDefaults, type ModelOptions } from "./encoder_decoder.ts";

/**
 * One causal block: self-attention and a feed-forward, each with its residual
 * connection (parameters `self_attn.*`, `feed_forward.*`, `sublayer.0..1.norm.*`).
 * It is {@link EncoderLayer}'s computation; causality comes from the mask the
 * model passes.
 */
export type DecoderOnlyLayer = EncoderLayer;

/** Embeddings, positions, N causal blocks, a final norm (pre-norm), the generator. */
export class DecoderOnlyTransformer extends Module {
  /** Token embeddings then positions: `embed.0` (Embeddings), `embed.1` (positional stage). */
  readonly embed: Sequential;
  /** The N causal blocks. */
  readonly layers: ModuleList<DecoderOnlyLayer>;
  /** The final LayerNorm (pre-norm form only). */
  readonly norm?: LayerNorm;
  /** Linear + log-softmax over the vocabulary. */
  readonly generator: Generator;

  /**
   * Assembles a model from its parts (see {@link makeDecoderOnly} for the usual way).
   *
   * @param embed embeddings then positional stage
   * @param layers the N blocks (each built separately; they share nothing)
   * @param generator the output layer
   * @param finalNorm add the final LayerNorm (default: when the blocks are pre-norm)
   */
  constructor(
    embed: Sequential,
    layers: DecoderOnlyLayer[],
    generator: Generator,
    finalNorm = layers[0]?.norm !== "post",
  ) {
    super();
    if (!layers.length) {
      throw new Error("DecoderOnlyTransformer needs at least one layer: set model.layers ≥ 1");
    }
    this.embed = this.child("embed", embed);
    this.layers = this.child("layers", new ModuleList(layers));
    if (finalNorm) this.norm = this.child("norm", new LayerNorm(layers[0].size));
    this.generator = this.child("generator", generator);
  }

  /**
   * Hidden states [B, T, d] of token ids [B, T]. `mask` (1 = may attend)
   * defaults to the subsequent mask [1, T, T]; a caller's mask (e.g. causal
   * times padding, [B, T, T]) must be causal itself.
   */
  forward(ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const m = mask ?? subsequentMask(ids.shape[1]!);
      let x = this.embed.apply(ids);
      for (const layer of this.layers.items) x = layer.apply(x, m);
      return this.norm ? this.norm.apply(x) : x;
    });
  }

  /** Next-token log-probabilities [B, T, V]: position t predicts token t + 1. */
  logProbs(ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.generator.apply(this.forward(ids, mask)));
  }

  /** Every self-attention module, for recording maps: `[name, module]`. */
  attentionModules(): [string, MultiHeadedAttention][] {
    return this.layers.items.map((l, i) => [`layers.${i}.self_attn`, l.selfAttn]);
  }

  /** The positional stage after the embeddings (for the positional-encoding artifact). */
  get positional(): PositionalStage {
    return this.embed.at(1) as unknown as PositionalStage;
  }
}

/**
 * Builds a {@link DecoderOnlyTransformer} over a vocabulary of `vocab` tokens
 * with the same options (and defaults) as the encoder–decoder's `makeModel`;
 * every weight is drawn from `rng` (Xavier uniform for matrices).
 */
export function makeDecoderOnly(
  vocab: number,
  opts: ModelOptions = {},
  rng: Rng,
): DecoderOnlyTransformer {
  const o = modelOptionDefaults(opts);
  const layers = encoderLayers(o, rng);
  const embed = new Sequential([
    new Embeddings(vocab, o.dModel, rng),
    makePositional(o.positional, o.dModel, o.dropout, o.maxLen, rng),
  ]);
  return new DecoderOnlyTransformer(embed, layers, new Generator(o.dModel, vocab, rng));
}
