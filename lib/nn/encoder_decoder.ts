/**
 * The encoder–decoder Transformer (Vaswani et al., 2017) and its factory with
 * the Annotated Transformer's defaults (N = 6, d_model = 512, d_ff = 2048,
 * h = 8, dropout 0.1) and Xavier-uniform initialisation of every matrix.
 *
 * Parameter names match the reference's PyTorch state dict:
 * `encoder.layers.0.self_attn.linears.0.weight`, `src_embed.0.lut.weight`,
 * `generator.proj.weight`, ....
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { Sequential } from "./module_list.ts";
import { Embeddings } from "./embeddings.ts";
import { MultiHeadedAttention } from "./attention.ts";
import { PositionwiseFeedForward } from "./feed_forward.ts";
import { Encoder, encoderLayers } from "./encoder.ts";
import { Decoder, DecoderLayer } from "./decoder.ts";
import { Generator } from "./generator.ts";
import { makePositional, type PositionalKind, type PositionalStage } from "./positional.ts";
import type { NormPlacement } from "./sublayer.ts";

/** Encoder, decoder, the two embedding stages and the generator. */
export class EncoderDecoder extends Module {
  /** The encoder stack. */
  readonly encoder: Encoder;
  /** The decoder stack. */
  readonly decoder: Decoder;
  /** Source embeddings then positions: `src_embed.0` (Embeddings), `src_embed.1` (positional). */
  readonly srcEmbed: Sequential;
  /** Target embeddings then positions. */
  readonly tgtEmbed: Sequential;
  /** Linear + log-softmax over the target vocabulary. */
  readonly generator: Generator;

  /** Assembles a model from its parts (see {@link makeModel} for the usual way). */
  constructor(
    encoder: Encoder,
    decoder: Decoder,
    srcEmbed: Sequential,
    tgtEmbed: Sequential,
    generator: Generator,
  ) {
    super();
    this.encoder = this.child("encoder", encoder);
    this.decoder = this.child("decoder", decoder);
    this.srcEmbed = this.child("src_embed", srcEmbed);
    this.tgtEmbed = this.child("tgt_embed", tgtEmbed);
    this.generator = this.child("generator", generator);
  }

  /** src ids [B, S], srcMask [B, 1, S] → memory [B, S, d]. */
  encode(src: tf.Tensor, srcMask?: tf.Tensor): tf.Tensor {
    return this.encoder.apply(this.srcEmbed.apply(src), srcMask);
  }

  /** memory [B, S, d], tgt ids [B, T], tgtMask [B, T, T] → decoder states [B, T, d]. */
  decode(
    memory: tf.Tensor,
    srcMask: tf.Tensor | undefined,
    tgt: tf.Tensor,
    tgtMask?: tf.Tensor,
  ): tf.Tensor {
    return this.decoder.apply(this.tgtEmbed.apply(tgt), memory, srcMask, tgtMask);
  }

  /**
   * Decoder states for a source and a (shifted) target. As the reference,
   * this does not apply the generator: call `generator.apply` on the result.
   */
  forward(src: tf.Tensor, tgt: tf.Tensor, srcMask?: tf.Tensor, tgtMask?: tf.Tensor): tf.Tensor {
    return this.decode(this.encode(src, srcMask), srcMask, tgt, tgtMask);
  }

  /** Every attention module, for recording maps: `[name, module]`. */
  attentionModules(): [string, MultiHeadedAttention][] {
    const out: [string, MultiHeadedAttention][] = [];
    const walk = (prefix: string, m: Module) => {
      if (m instanceof MultiHeadedAttention) out.push([prefix.slice(0, -1), m]);
      for (const [n, c] of m.children()) walk(`${prefix}${n}.`, c);
    };
    walk("", this);
    return out;
  }

  /** The positional stage of the source side (for the positional-encoding artifact). */
  get srcPositional(): PositionalStage {
    return this.srcEmbed.at(1) as unknown as PositionalStage;
  }
}

/** Options of {@link makeModel}; the defaults are the Annotated Transformer's. */
export interface ModelOptions {
  /** Layers in each stack (6). */
  N?: number;
  /** Model width (512). */
  dModel?: number;
  /** Feed-forward inner width (2048). */
  dFF?: number;
  /** Attention heads (8). */
  h?: number;
  /** Dropout everywhere (0.1). */
  dropout?: number;
  /** Positional scheme ("sinusoid"). */
  positional?: PositionalKind;
  /** Longest sequence a learned table holds (5000). */
  maxLen?: number;
  /** Norm placement ("pre", as the reference). */
  norm?: NormPlacement;
}

/** {@link ModelOptions} with every default filled in. */
export function modelOptionDefaults(opts: ModelOptions): Required<ModelOptions> {
  return {
    N: opts.N ?? 6,
    dModel: opts.dModel ?? 512,
    dFF: opts.dFF ?? 2048,
    h: opts.h ?? 8,
    dropout: opts.dropout ?? 0.1,
    positional: opts.positional ?? "sinusoid",
    maxLen: opts.maxLen ?? 5000,
    norm: opts.norm ?? "pre",
  };
}

/** Builds an {@link EncoderDecoder}; every weight is drawn from `rng` (Xavier uniform for matrices). */
export function makeModel(
  srcVocab: number,
  tgtVocab: number,
  opts: ModelOptions = {},
  rng: Rng,
): EncoderDecoder {
  const o = modelOptionDefaults(opts);
  const { N, dModel: d, dFF, h, dropout: p, positional, maxLen, norm } = o;
  const mha = () => new MultiHeadedAttention(h, d, p, rng, { positional });
  const crossAttn = () => new MultiHeadedAttention(h, d, p, rng);
  const ff = () => new PositionwiseFeedForward(d, dFF, p, rng);
  const encLayers = encoderLayers(o, rng);
  const decLayers = Array.from(
    { length: N },
    () => new DecoderLayer(d, mha(), crossAttn(), ff(), p, rng, norm),
  );
  const embed = (vocab: number) =>
    new Sequential([new Embeddings(vocab, d, rng), makePositional(positional, d, p, maxLen, rng)]);
  return new EncoderDecoder(
    new Encoder(encLayers),
    new Decoder(decLayers),
    embed(srcVocab),
    embed(tgtVocab),
    new Generator(d, tgtVocab, rng),
  );
}
