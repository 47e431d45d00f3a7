/**
 * Beam search over a whole batch at once: every example keeps its `k` most
 * probable partial outputs, ranked by Σ_t log p(y_t | y_<t, x) (optionally
 * divided by length^α, as {@link beamSearch}); at each step the live beams of
 * all examples go through the decoder together as one batch, so a batch of B
 * examples costs about k greedy decodes instead of B·k single ones.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { EncoderDecoder } from "../nn/encoder_decoder.ts";
import { paddingMask, subsequentMask } from "../nn/masks.ts";

/** Options of {@link batchBeamSearch}. */
export interface BatchBeamOptions {
  /** Beams kept per example (4). */
  beamSize?: number;
  /** Token that ends an output. */
  endSymbol: number;
  /** Length penalty α: rank by score / length^α (0: plain sum). */
  lengthPenalty?: number;
  /** Padding id of the source (0). */
  pad?: number;
}

interface Beam {
  tokens: number[];
  score: number;
  done: boolean;
}

/**
 * Decodes `rows` sources (`src`, row-major [rows, srcLen], int32) from
 * `startSymbol` to at most `maxLen` tokens (start included). Returns each
 * example's best output without the start symbol and without the end symbol
 * or anything after it. Reads the model's outputs asynchronously (any
 * backend). The model should be in eval mode.
 */
export async function batchBeamSearch(
  model: EncoderDecoder,
  src: Int32Array,
  rows: number,
  srcLen: number,
  maxLen: number,
  startSymbol: number,
  opts: BatchBeamOptions,
): Promise<number[][]> {
  const size = opts.beamSize ?? 4, alpha = opts.lengthPenalty ?? 0, end = opts.endSymbol;
  if (!(size >= 1)) throw new Error(`beamSize ${size} must be at least 1`);
  const rank = (b: Beam) => b.score / Math.pow(b.tokens.length, alpha);
  const srcT = tf.tensor2d(src, [rows, srcLen], "int32");
  const mask = paddingMask(srcT, opts.pad ?? 0);
  const memory = tf.tidy(() => model.encode(srcT, mask));
  const beams: Beam[][] = Array.from(
    { length: rows },
    () => [{ tokens: [startSymbol], score: 0, done: false }],
  );
  try {
    for (let t = 1; t < maxLen; t++) {
      const live: [number, Beam][] = [];
      beams.forEach((bs, i) => bs.forEach((b) => b.done || live.push([i, b])));
      if (!live.length) break;
      const logp = tf.tidy(() => {
        const which = tf.tensor1d(live.map(([i]) => i), "int32");
        const ys = tf.tensor2d(live.flatMap(([, b]) => b.tokens), [live.length, t], "int32");
        const out = model.decode(
          tf.gather(memory, which),
          tf.gather(mask, which),
          ys,
          subsequentMask(t),
        );
        const last = out.slice([0, t - 1, 0], [live.length, 1, -1]).reshape([live.length, -1]);
        return model.generator.apply(last);
      });
      let values: Float32Array;
      try {
        values = (await logp.data()) as Float32Array;
      } finally {
        logp.dispose();
      }
      const v = values.length / live.length;
      const candidates: Beam[][] = beams.map((bs) => bs.filter((b) => b.done));
      live.forEach(([i, b], r) => {
        // Only a beam's `size` best next tokens can survive the cut below.
        const row = values.subarray(r * v, (r + 1) * v);
        const top = Array.from(row.keys()).sort((x, y) => row[y] - row[x]).slice(0, size);
        for (const tok of top) {
          candidates[i].push({
            tokens: [...b.tokens, tok],
            score: b.score + row[tok],
            done: tok === end,
          });
        }
      });
      candidates.forEach((c, i) => {
        if (c.some((b) => !b.done) || beams[i].some((b) => !b.done)) {
          beams[i] = c.sort((a, b) => rank(b) - rank(a)).slice(0, size);
        }
      });
    }
  } finally {
    tf.dispose([srcT, mask, memory]);
  }
  return beams.map((bs) => {
    const best = bs.reduce((a, b) => (rank(b) > rank(a) ? b : a));
    const out = best.tokens.slice(1);
    const e = out.indexOf(end);
    return e < 0 ? out : out.slice(0, e);
  });
}
