/**
 * What the decoder-only tasks share: the model built from a run's `model.*`
 * keys (the same keys as the encoder–decoder: layers, dModel, dFF, heads,
 * dropout, positional, maxLen, norm), the batch format, and the next-token
 * loss
 *
 *   L = −Σ_{b,t} w_{b,t} · log p(y_{b,t} | x_{b,≤t}) / Σ_{b,t} w_{b,t},
 *
 * the mean negative log-likelihood in nats per scored token (w = 1 on every
 * position unless the batch says which positions count, e.g. only an answer).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../engine/rng.ts";
import type { RunConfig } from "../experiment/config.ts";
import { type DecoderOnlyTransformer, makeDecoderOnly } from "../nn/decoder_only.ts";

/**
 * A batch of next-token examples, row-major [rows, len]: the model reads
 * `ids` and predicts `targets` at every position (usually `ids` shifted by
 * one); `weights` (optional, 0/1 or any non-negative) says which positions
 * are scored.
 */
export interface CausalBatch {
  ids: Int32Array;
  targets: Int32Array;
  weights?: Float32Array;
  rows: number;
  len: number;
}

/** A decoder-only Transformer for a run's model config and a vocabulary of `vocab` tokens. */
export function decoderOnlyFromConfig(
  config: RunConfig,
  vocab: number,
  rng: Rng,
): DecoderOnlyTransformer {
  const m = config.model;
  return makeDecoderOnly(vocab, {
    N: m.layers,
    dModel: m.dModel,
    dFF: m.dFF,
    h: m.heads,
    dropout: m.dropout,
    positional: m.positional,
    maxLen: m.maxLen,
    norm: m.norm,
  }, rng);
}

/** Number of scored positions of a batch (Σ w, or rows × len without weights). */
export function scoredTokens(b: CausalBatch): number {
  if (!b.weights) return b.rows * b.len;
  let n = 0;
  for (const w of b.weights) n += w;
  return n;
}

/**
 * The summed negative log-likelihood of a batch's scored targets (a scalar
 * tensor, nats), built from tensors made inside this call.
 */
export function causalNllSum(model: DecoderOnlyTransformer, b: CausalBatch): tf.Scalar {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.ids, [b.rows, b.len], "int32");
    const logp = model.logProbs(ids);
    const v = logp.shape[2]!;
    const flat = logp.reshape([-1, v]);
    const gold = tf.tensor1d(b.targets, "int32");
    const picked = tf.sum(tf.mul(flat, tf.oneHot(gold, v)), -1);
    const w = b.weights ? tf.tensor1d(b.weights, "float32") : undefined;
    return tf.neg(tf.sum(w ? tf.mul(picked, w) : picked)) as tf.Scalar;
  });
}

/** The mean next-token NLL per scored token (nats): the training loss of a decoder-only task. */
export function causalLoss(model: DecoderOnlyTransformer, b: CausalBatch): tf.Scalar {
  return tf.tidy(() => tf.div(causalNllSum(model, b), Math.max(scoredTokens(b), 1)) as tf.Scalar);
}
