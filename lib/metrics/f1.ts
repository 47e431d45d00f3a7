/**
 * Multi-label F1 scores at a threshold, with scikit-learn's semantics
 * (`f1_score(y_true, y_pred, average=...)`, `zero_division=0`):
 *
 * - `micro`: F1 of the true/false positives and false negatives pooled over
 *   every label and sample.
 * - `macro`: unweighted mean of the per-label F1.
 * - `weighted`: mean of the per-label F1 weighted by each label's support
 *   (number of true instances).
 * - `samples`: mean over samples of each sample's F1 over its labels.
 *
 * Zero division: an F1 whose denominator 2·TP + FP + FN is 0 (a label, or a
 * sample, with no true and no predicted positive) counts as 0, as
 * scikit-learn's default `zero_division="warn"` does (it returns 0 and warns).
 * A `weighted` average with no true labels at all is 0.
 *
 * @module
 */

/** The four F1 averages. */
export interface F1Scores {
  micro: number;
  macro: number;
  weighted: number;
  samples: number;
}

/**
 * F1 of multi-label predictions. `scores` and `targets` are row-major
 * `[samples, labels]`; a label is predicted when its score is ≥ `threshold`
 * (scores may be probabilities or 0/1 predictions); a target is positive when
 * it is > 0.5.
 */
export function multiLabelF1(
  scores: ArrayLike<number>,
  targets: ArrayLike<number>,
  labels: number,
  threshold = 0.5,
): F1Scores {
  if (scores.length !== targets.length) {
    throw new Error(`multiLabelF1: ${scores.length} scores for ${targets.length} targets`);
  }
  if (labels < 1 || scores.length % labels !== 0) {
    throw new Error(`multiLabelF1: ${scores.length} values are not rows of ${labels} labels`);
  }
  const n = scores.length / labels;
  const tp = new Float64Array(labels), fp = new Float64Array(labels), fn = new Float64Array(labels);
  let samplesSum = 0;
  for (let s = 0; s < n; s++) {
    let stp = 0, sfp = 0, sfn = 0;
    for (let l = 0; l < labels; l++) {
      const i = s * labels + l;
      const p = scores[i] >= threshold, t = targets[i] > 0.5;
      if (p && t) {
        tp[l]++;
        stp++;
      } else if (p) {
        fp[l]++;
        sfp++;
      } else if (t) {
        fn[l]++;
        sfn++;
      }
    }
    samplesSum += f1Of(stp, sfp, sfn);
  }
  let TP = 0, FP = 0, FN = 0, macro = 0, weighted = 0, support = 0;
  for (let l = 0; l < labels; l++) {
    TP += tp[l];
    FP += fp[l];
    FN += fn[l];
    const f = f1Of(tp[l], fp[l], fn[l]);
    macro += f;
    weighted += f * (tp[l] + fn[l]);
    support += tp[l] + fn[l];
  }
  return {
    micro: f1Of(TP, FP, FN),
    macro: macro / labels,
    weighted: support ? weighted / support : 0,
    samples: n ? samplesSum / n : 0,
  };
}

/** F1 = 2TP / (2TP + FP + FN); 0 when the denominator is 0. */
export function f1Of(tp: number, fp: number, fn: number): number {
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d;
}
