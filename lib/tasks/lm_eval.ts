/**
 * Evaluation of a language model at a length N, deterministic and on the
 * same tokens at every length: K chunks of C + 1 tokens (C the longest
 * length) at evenly spaced offsets of a split's stream ({@link chunkOffsets});
 * each chunk cut into non-overlapping windows of N tokens, or slid with a
 * stride ({@link chunkWindows}); the summed negative log-likelihood of the
 * scored tokens, and from it loss (nats/token), perplexity = exp(loss) and
 * bits per character ({@link lmMetrics}).
 *
 * @module
 */
import type { TokenStream } from "../data/lm_corpus.ts";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";
import { type CausalBatch, causalNllSum, scoredTokens } from "./decoder_only.ts";

/** Start offsets of K evaluation chunks of `chunk + 1` tokens in a stream of M tokens. */
export function chunkOffsets(m: number, chunk: number, k: number): number[] {
  const span = m - chunk - 1;
  if (span < 0) return [];
  return Array.from({ length: k }, (_, i) => Math.floor(i * span / Math.max(k - 1, 1)));
}

/**
 * Windows of one chunk for evaluation length `n`: `[start, scoreFrom]`
 * (offsets within the chunk; the window reads `n` tokens from `start` and
 * scores its positions from `scoreFrom` on). Without a stride: ⌊C/n⌋
 * non-overlapping windows scoring everything. With stride s: windows every s
 * tokens, the first scoring all, the others their last s positions.
 */
export function chunkWindows(chunk: number, n: number, stride?: number): [number, number][] {
  const out: [number, number][] = [];
  if (n > chunk) return out;
  if (stride === undefined) {
    for (let s = 0; s + n <= chunk; s += n) out.push([s, 0]);
    return out;
  }
  out.push([0, 0]);
  for (let end = n + stride; end <= chunk; end += stride) out.push([end - n, n - stride]);
  const last = out[out.length - 1][0] + n;
  if (last < chunk) out.push([chunk - n, n - (chunk - last)]);
  return out;
}

/** Sums of one evaluation: negative log-likelihood (nats), scored tokens, their characters. */
export interface NllTotals {
  nll: number;
  tokens: number;
  chars: number;
}

/** loss (nats/token), perplexity = exp(loss), bits per character = nll / chars / ln 2. */
export function lmMetrics(t: NllTotals): { loss: number; ppl: number; bpc: number } {
  const loss = t.tokens ? t.nll / t.tokens : NaN;
  return { loss, ppl: Math.exp(loss), bpc: t.chars ? t.nll / t.chars / Math.LN2 : NaN };
}

/** Rows per evaluation batch: about 4096 tokens a batch. */
const EVAL_BATCH_TOKENS = 4096;

/**
 * The evaluation batches of a stream at length `n` (chunks of `chunk + 1`
 * tokens at `offsets`), with the characters of the scored tokens.
 */
export function evalBatches(
  s: TokenStream,
  offsets: readonly number[],
  chunk: number,
  n: number,
  stride?: number,
): { batches: CausalBatch[]; chars: number } {
  const wins = offsets.flatMap((o) => chunkWindows(chunk, n, stride).map(([a, f]) => [o + a, f]));
  const rowsPer = Math.max(1, Math.floor(EVAL_BATCH_TOKENS / n));
  const batches: CausalBatch[] = [];
  let chars = 0;
  for (let i = 0; i < wins.length; i += rowsPer) {
    const part = wins.slice(i, i + rowsPer);
    const b: CausalBatch = {
      ids: new Int32Array(part.length * n),
      targets: new Int32Array(part.length * n),
      weights: new Float32Array(part.length * n),
      rows: part.length,
      len: n,
    };
    part.forEach(([start, from], r) => {
      b.ids.set(s.ids.subarray(start, start + n), r * n);
      b.targets.set(s.ids.subarray(start + 1, start + n + 1), r * n);
      b.weights!.fill(1, r * n + from, (r + 1) * n);
      for (let t = from; t < n; t++) chars += s.chars[start + 1 + t];
    });
    if (part.every(([, from]) => from === 0)) delete b.weights;
    batches.push(b);
  }
  return { batches, chars };
}

/** Σ NLL over batches, read asynchronously (any backend). */
export async function nllOf(
  model: DecoderOnlyTransformer,
  batches: readonly CausalBatch[],
): Promise<{ nll: number; tokens: number }> {
  let nll = 0, tokens = 0;
  for (const b of batches) {
    const t = causalNllSum(model, b);
    try {
      nll += (await t.data())[0];
    } finally {
      t.dispose();
    }
    tokens += scoredTokens(b);
  }
  return { nll, tokens };
}
