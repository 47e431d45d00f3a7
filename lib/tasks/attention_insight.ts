/**
 * The `attention` artifact of a run: the attention probabilities
 *
 *   softmax(Q Kᵀ / √d_k)   of every head of every listed layer
 *
 * on one sample, recorded during a single forward pass in evaluation mode
 * (no dropout) and read asynchronously. The model's training mode and the
 * layers' recording switch are restored afterwards, also on error.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module.ts";
import type { MultiHeadedAttention } from "../nn/attention.ts";

/** The attention artifact: the sample's tokens and each layer's heads [head][query][key]. */
export interface AttentionInsight {
  /** The sample's tokens, named. */
  tokens: string[];
  /** Each layer's attention probabilities, per head, query and key. */
  layers: { layer: number; heads: number[][][] }[];
}

/**
 * Records `layers` while `forward` reads the sample (a [1, len] int32
 * tensor) through `model`, and returns what they attended to.
 */
export async function attentionInsight(
  model: Module,
  layers: readonly MultiHeadedAttention[],
  sample: ArrayLike<number>,
  tokenName: (id: number) => string,
  forward: (ids: tf.Tensor2D) => void,
): Promise<AttentionInsight> {
  const wasTraining = model.training;
  model.eval();
  for (const a of layers) a.recordAttention = true;
  try {
    tf.tidy(() => {
      forward(tf.tensor2d(Int32Array.from(sample), [1, sample.length], "int32"));
    });
    const heads = [];
    for (const a of layers) heads.push((await a.readAttention())?.[0] ?? []);
    return {
      tokens: Array.from(sample, tokenName),
      layers: heads.map((h, i) => ({ layer: i, heads: h })),
    };
  } finally {
    // Stops recording and frees the kept probabilities.
    for (const a of layers) a.recordAttention = false;
    model.train(wasTraining);
  }
}
