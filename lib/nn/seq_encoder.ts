/**
 * A Transformer encoder for one modality's sequence, pooled to a vector:
 *
 *   tokens [B, T] → Embeddings (· √d)  or  frames [B, T, F] → Linear(F → d),
 *   then positions (sinusoid, learned, none, RoPE, ALiBi), then N encoder
 *   layers, then pooling: the mean over non-padding positions,
 *   Σ_t m_t h_t / Σ_t m_t, or the first position's state.
 *
 * Positional-encoding, norm-placement and head-count ablations therefore
 * apply inside multimodal models too.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { Sequential } from "./module_list.ts";
import { Embeddings } from "./embeddings.ts";
import { Linear } from "./linear.ts";
import type { MultiHeadedAttention } from "./attention.ts";
import { Encoder, encoderLayers } from "./encoder.ts";
import { makePositional, type PositionalKind, type PositionalStage } from "./positional.ts";
import { paddingMask } from "./masks.ts";
import type { NormPlacement } from "./sublayer.ts";

/** Options of {@link SequenceEncoder}. */
export interface SequenceEncoderOptions {
  /** Token input with this vocabulary (ids, 0 = padding)… */
  vocab?: number;
  /** …or frame input with this many features per step. Exactly one of the two. */
  features?: number;
  /** Layers (2). */
  N?: number;
  /** Width (32). */
  dModel?: number;
  /** Feed-forward width (4·dModel). */
  dFF?: number;
  /** Heads (4). */
  h?: number;
  /** Dropout (0.1). */
  dropout?: number;
  /** Positional scheme ("sinusoid"). */
  positional?: PositionalKind;
  /** Longest sequence for a learned table (256). */
  maxLen?: number;
  /** Norm placement ("pre"). */
  norm?: NormPlacement;
  /** "mean" over non-padding positions (default) or the "first" position. */
  pool?: "mean" | "first";
  /** Padding id for token input (0). */
  pad?: number;
}

/** Sequence → vector: parameters `embed.0.*` (embedding or projection), `embed.1.*`, `encoder.*`. */
export class SequenceEncoder extends Module {
  /** Input embedding then positions. */
  readonly embed: Sequential;
  /** The encoder stack. */
  readonly encoder: Encoder;
  /** Output width, d_model. */
  readonly outDim: number;
  /** Pooling: mean over non-padding positions, or the first position. */
  readonly pool: "mean" | "first";
  readonly #pad: number;
  readonly #tokens: boolean;

  /** @param opts input kind and sizes @param rng initialisation and dropout stream */
  constructor(opts: SequenceEncoderOptions, rng: Rng) {
    super();
    if ((opts.vocab === undefined) === (opts.features === undefined)) {
      throw new Error(
        "SequenceEncoder: give exactly one of `vocab` (token ids) or `features` (frames)",
      );
    }
    const d = opts.dModel ?? 32, h = opts.h ?? 4, N = opts.N ?? 2;
    const dFF = opts.dFF ?? 4 * d, p = opts.dropout ?? 0.1;
    const positional = opts.positional ?? "sinusoid", norm = opts.norm ?? "pre";
    this.#tokens = opts.vocab !== undefined;
    this.#pad = opts.pad ?? 0;
    this.pool = opts.pool ?? "mean";
    this.outDim = d;
    const input = this.#tokens
      ? new Embeddings(opts.vocab!, d, rng)
      : new Linear(opts.features!, d, rng);
    this.embed = this.child(
      "embed",
      new Sequential([input, makePositional(positional, d, p, opts.maxLen ?? 256, rng)]),
    );
    const layers = encoderLayers({ N, dModel: d, h, dFF, dropout: p, positional, norm }, rng);
    this.encoder = this.child("encoder", new Encoder(layers));
  }

  /** The default mask: padding ids for token input, none (all valid) for frames. */
  defaultMask(x: tf.Tensor): tf.Tensor | undefined {
    return this.#tokens ? paddingMask(x, this.#pad) : undefined;
  }

  /** Encoder states [B, T, d] for ids [B, T] or frames [B, T, F]; mask [B, 1, T] (1 = real). */
  states(x: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return this.encoder.apply(this.embed.apply(x), mask);
  }

  /** Pooled vector [B, d]; `mask` defaults to {@link SequenceEncoder.defaultMask}. */
  apply(x: tf.Tensor, mask: tf.Tensor | undefined = this.defaultMask(x)): tf.Tensor {
    const hs = this.states(x, mask);
    const [b, t, d] = hs.shape as [number, number, number];
    if (this.pool === "first") return hs.slice([0, 0, 0], [b, 1, d]).reshape([b, d]);
    if (!mask) return tf.mean(hs, 1);
    const m = mask.toFloat().reshape([b, t, 1]);
    return tf.div(tf.sum(tf.mul(hs, m), 1), tf.maximum(tf.sum(m, 1), 1));
  }

  /** The positional stage (for the positional-encoding artifact). */
  get positionalStage(): PositionalStage {
    return this.embed.at(1) as unknown as PositionalStage;
  }

  /** The self-attention modules, in layer order. */
  attentionModules(): MultiHeadedAttention[] {
    return this.encoder.layers.items.map((l) => l.selfAttn);
  }
}
