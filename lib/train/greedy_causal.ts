/**
 * Greedy decoding for a decoder-only (causal) language model: from a prompt,
 * append the most probable next token, one position at a time,
 *
 *   x_{t+1} = argmax_v p(v | x_{≤t}),   t = |prompt|, …, |prompt| + steps − 1.
 *
 * Each step re-runs the whole prefix (no key/value cache): the cost is
 * quadratic in the output length, but the computation is exactly the one
 * training scores, for every positional encoding.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";

/**
 * Continues `prompt` [B, P] (int32, no padding) by `steps` greedy tokens;
 * returns the continuation [B, steps] (int32). The model should be in eval
 * mode. Frees everything it makes except the result.
 */
export function greedyContinue(
  model: DecoderOnlyTransformer,
  prompt: tf.Tensor2D,
  steps: number,
): tf.Tensor2D {
  const [b, p] = prompt.shape;
  let ys: tf.Tensor2D = tf.clone(prompt);
  for (let i = 0; i < steps; i++) {
    const next: tf.Tensor2D = tf.tidy(() => {
      const t = ys.shape[1];
      const last = model.forward(ys).slice([0, t - 1, 0], [b, 1, -1]).reshape([b, -1]);
      const word = tf.argMax(model.generator.apply(last), -1).toInt().reshape([b, 1]);
      return tf.concat([ys, word], 1) as tf.Tensor2D;
    });
    ys.dispose();
    ys = next;
  }
  const out = tf.slice(ys, [0, p], [b, steps]) as tf.Tensor2D;
  ys.dispose();
  return out;
}
