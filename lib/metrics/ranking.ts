/**
 * Ranking and association: ROC AUC and Pearson correlation.
 *
 * @module
 */

/**
 * Area under the ROC curve of `scores` for binary `labels` (positive when
 * > 0.5): the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann–Whitney U statistic / (P·N)).
 * NaN when either class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (scores.length !== labels.length) {
    throw new Error(`rocAuc: ${scores.length} scores for ${labels.length} labels`);
  }
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
    scores[a] - scores[b]
  );
  // Mid-ranks (1-based) over ties.
  let rankSumPos = 0, pos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] > 0.5) {
        rankSumPos += mid;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Pearson correlation of two equally long series; NaN when either is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: lengths ${x.length} and ${y.length}`);
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}
