/**
 * Error rates of grapheme-to-phoneme conversion, as Yao & Zweig (2015) and
 * the G2P literature report them:
 *
 *     WER = #{words whose output differs from the reference} / #words
 *     PER = Σ_w d(ŷ_w, y_w) / Σ_w |y_w|
 *
 * where d is the Levenshtein distance over phonemes (insertions, deletions
 * and substitutions cost 1). A word with several reference pronunciations is
 * scored against the one nearest its output (smallest d; the first such in
 * the dictionary's order), so an output matching any reference is correct.
 *
 * @module
 */

/** Levenshtein distance between two sequences (insert, delete, substitute: 1 each). */
export function sequenceEditDistance<T>(a: readonly T[], b: readonly T[]): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = d[j];
      d[j] = Math.min(up + 1, d[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return d[b.length];
}

/** WER and PER over a set of words, with the counts they come from. */
export interface G2pErrorRates {
  /** Fraction of words whose output matches none of their references. */
  wer: number;
  /** Phoneme edits to the nearest reference / phonemes in those references. */
  per: number;
  words: number;
  wrongWords: number;
  edits: number;
  refPhones: number;
}

/**
 * WER and PER of outputs `hyps[i]` against each word's references
 * `refs[i]` (one or more pronunciations; see the module doc).
 */
export function g2pErrorRates(
  hyps: readonly (readonly string[])[],
  refs: readonly (readonly (readonly string[])[])[],
): G2pErrorRates {
  if (hyps.length !== refs.length) {
    throw new Error(`${hyps.length} outputs for ${refs.length} words`);
  }
  let wrongWords = 0, edits = 0, refPhones = 0;
  hyps.forEach((h, i) => {
    if (!refs[i].length) throw new Error(`word ${i} has no reference pronunciation`);
    let best = Infinity, bestLen = 0;
    for (const r of refs[i]) {
      const dist = sequenceEditDistance(h, r);
      if (dist < best) [best, bestLen] = [dist, r.length];
    }
    if (best > 0) wrongWords++;
    edits += best;
    refPhones += bestLen;
  });
  const words = hyps.length;
  return {
    wer: words ? wrongWords / words : 0,
    per: refPhones ? edits / refPhones : 0,
    words,
    wrongWords,
    edits,
    refPhones,
  };
}
