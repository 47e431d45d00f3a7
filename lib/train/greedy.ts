/**
 * Greedy decoding: start from the start symbol and append, one position at a
 * time, the most probable next token under the model,
 * y_t = argmax_v p(v | y_<t, x).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { EncoderDecoder } from "../nn/encoder_decoder.ts";
import { subsequentMask } from "../nn/masks.ts";

/**
 * Decodes `src` [B, S] (int32) to [B, maxLen] token ids (int32), beginning
 * with `startSymbol`. The model should be in eval mode. Frees everything it
 * makes except the result.
 */
export function greedyDecode(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  maxLen: number,
  startSymbol: number,
): tf.Tensor2D {
  const b = src.shape[0];
  const memory = tf.tidy(() => model.encode(src, srcMask));
  let ys: tf.Tensor2D = tf.fill([b, 1], startSymbol, "int32");
  for (let i = 0; i < maxLen - 1; i++) {
    const next: tf.Tensor2D = tf.tidy(() => {
      const out = model.decode(memory, srcMask, ys, subsequentMask(ys.shape[1]));
      const last = out.slice([0, ys.shape[1] - 1, 0], [b, 1, -1]).reshape([b, -1]);
      const word = tf.argMax(model.generator.apply(last), -1).toInt().reshape([b, 1]);
      return tf.concat([ys, word], 1) as tf.Tensor2D;
    });
    ys.dispose();
    ys = next;
  }
  memory.dispose();
  return ys;
}
