/**
 * Token accuracy per output position, for length generalization: where in
 * a long output a model starts to fail, not only whether it does.
 *
 *   acc(p) = #{s : pred_s[p] = gold_s[p]} / #{s : gold_s[p] ≠ pad}
 *
 * over sequences s and 0-based positions p (a prediction shorter than its
 * target is wrong at the missing positions). `accuracyFrom(…, q)` pools the
 * positions p ≥ q: the tokens a model trained on outputs of length ≤ q never
 * had to produce.
 *
 * @module
 */

/** Correct and scored tokens per output position. */
export interface PositionCounts {
  /** Correct predictions at each position. */
  correct: number[];
  /** Scored (non-padding) target tokens at each position. */
  total: number[];
}

/** Counts correct and scored tokens per position (see the module equation). */
export function positionCounts(
  preds: readonly ArrayLike<number>[],
  golds: readonly ArrayLike<number>[],
  pad = 0,
): PositionCounts {
  if (preds.length !== golds.length) {
    throw new Error(`positionCounts: ${preds.length} predictions for ${golds.length} targets`);
  }
  const correct: number[] = [], total: number[] = [];
  golds.forEach((t, s) => {
    const p = preds[s];
    for (let i = 0; i < t.length; i++) {
      if (t[i] === pad) continue;
      while (total.length <= i) {
        total.push(0);
        correct.push(0);
      }
      total[i]++;
      if (i < p.length && p[i] === t[i]) correct[i]++;
    }
  });
  return { correct, total };
}

/** acc(p) per position; NaN where no target reaches p. */
export function positionAccuracy(c: PositionCounts): number[] {
  return c.total.map((n, i) => n ? c.correct[i] / n : NaN);
}

/** Token accuracy pooled over positions p ≥ `from` (0-based); NaN if none is scored. */
export function accuracyFrom(c: PositionCounts, from: number): number {
  let hit = 0, n = 0;
  for (let i = Math.max(0, from); i < c.total.length; i++) {
    hit += c.correct[i];
    n += c.total[i];
  }
  return n ? hit / n : NaN;
}

/** Adds the counts of `b` into `a` (positions beyond `a`'s length are appended). */
export function addPositionCounts(a: PositionCounts, b: PositionCounts): PositionCounts {
  const len = Math.max(a.total.length, b.total.length);
  return {
    correct: Array.from({ length: len }, (_, i) => (a.correct[i] ?? 0) + (b.correct[i] ?? 0)),
    total: Array.from({ length: len }, (_, i) => (a.total[i] ?? 0) + (b.total[i] ?? 0)),
  };
}
