/**
 * Corpus BLEU (Papineni et al., 2002): modified (clipped) n-gram precisions
 * for n = 1..N pooled over the corpus, their geometric mean with uniform
 * weights, times the brevity penalty BP = 1 if c > r else exp(1 − r/c),
 * where c is the total candidate length and r the effective reference length
 * (per sentence, the reference length closest to the candidate; ties take the
 * shorter). No smoothing: a zero precision gives BLEU 0. Scores are in [0, 1].
 *
 * @module
 */

/** BLEU and its parts. */
export interface BleuResult {
  bleu: number;
  /** Clipped precision for n = 1..N. */
  precisions: number[];
  brevityPenalty: number;
  candidateLength: number;
  referenceLength: number;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join("\u0001");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/**
 * Corpus BLEU of tokenized candidates against one or more tokenized
 * references per candidate.
 */
export function corpusBleu(
  candidates: readonly (readonly string[])[],
  references: readonly (readonly (readonly string[])[])[],
  maxN = 4,
): BleuResult {
  if (candidates.length !== references.length) {
    throw new Error(
      `corpusBleu: ${candidates.length} candidates for ${references.length} reference sets`,
    );
  }
  const matched = new Array(maxN).fill(0), total = new Array(maxN).fill(0);
  let c = 0, r = 0;
  for (let s = 0; s < candidates.length; s++) {
    const cand = candidates[s], refs = references[s];
    if (refs.length === 0) throw new Error(`corpusBleu: candidate ${s} has no reference`);
    c += cand.length;
    let best = refs[0].length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - cand.length), bd = Math.abs(best - cand.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
    for (let n = 1; n <= maxN; n++) {
      const cc = ngramCounts(cand, n);
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        for (const [k, v] of ngramCounts(ref, n)) maxRef.set(k, Math.max(maxRef.get(k) ?? 0, v));
      }
      for (const [k, v] of cc) {
        matched[n - 1] += Math.min(v, maxRef.get(k) ?? 0);
        total[n - 1] += v;
      }
    }
  }
  const precisions = matched.map((m, i) => (total[i] ? m / total[i] : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  const logMean = precisions.every((p) => p > 0)
    ? precisions.reduce((s, p) => s + Math.log(p), 0) / maxN
    : -Infinity;
  return {
    bleu: brevityPenalty * Math.exp(logMean),
    precisions,
    brevityPenalty,
    candidateLength: c,
    referenceLength: r,
  };
}
