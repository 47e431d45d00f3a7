/**
 * Batching of variable-length sequences: bucketing by length (so a batch
 * holds sentences of similar length and little padding), padding to the
 * longest in the batch, and a deterministic per-epoch order.
 *
 * @module
 */
import type { Rng } from "../util/rng.ts";

/** A padded batch of sequences, row-major `[rows, width]`. */
export interface PaddedBatch {
  data: Int32Array;
  rows: number;
  width: number;
}

/** Pads sequences to the longest one (or `width`) with `pad`. */
export function padSequences(
  seqs: readonly ArrayLike<number>[],
  pad = 0,
  width?: number,
): PaddedBatch {
  const w = width ?? seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const data = new Int32Array(seqs.length * w).fill(pad);
  seqs.forEach((s, r) => {
    for (let i = 0; i < Math.min(w, s.length); i++) data[r * w + i] = s[i];
  });
  return { data, rows: seqs.length, width: w };
}

/**
 * Groups example indices into batches of similar length: indices are sorted
 * by `length(i)` (stable), cut into batches of at most `batchSize` examples
 * and, when `maxTokens` is set, at most that many padded tokens; with `rng`,
 * examples of equal length are shuffled first and the batch order is
 * shuffled (the same rng state gives the same batches).
 */
export function lengthBuckets(
  count: number,
  length: (i: number) => number,
  batchSize: number,
  rng?: Rng,
  maxTokens = Infinity,
): number[][] {
  const idx = Array.from({ length: count }, (_, i) => i);
  if (rng) rng.shuffle(idx);
  idx.sort((a, b) => length(a) - length(b));
  const batches: number[][] = [];
  let cur: number[] = [], longest = 0;
  for (const i of idx) {
    const l = Math.max(longest, length(i));
    if (cur.length && (cur.length >= batchSize || l * (cur.length + 1) > maxTokens)) {
      batches.push(cur);
      cur = [];
    }
    longest = cur.length ? Math.max(longest, length(i)) : length(i);
    cur.push(i);
  }
  if (cur.length) batches.push(cur);
  if (rng) rng.shuffle(batches);
  return batches;
}

/** Consecutive index batches over `count` examples, shuffled with `rng` when given. */
export function indexBatches(count: number, batchSize: number, rng?: Rng): number[][] {
  const idx = Array.from({ length: count }, (_, i) => i);
  if (rng) rng.shuffle(idx);
  const out: number[][] = [];
  for (let i = 0; i < count; i += batchSize) out.push(idx.slice(i, i + batchSize));
  return out;
}
