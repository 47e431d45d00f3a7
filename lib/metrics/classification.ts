/**
 * Single-label and sequence metrics: accuracy, token accuracy, exact match.
 *
 * @module
 */

/** Fraction of positions where `pred[i] === target[i]`; 0 for empty input. */
export function accuracy(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  if (pred.length !== target.length) {
    throw new Error(`accuracy: ${pred.length} predictions for ${target.length} targets`);
  }
  if (target.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < target.length; i++) if (pred[i] === target[i]) hit++;
  return hit / target.length;
}

/** Index of the largest value in each row of a row-major `[rows, cols]` matrix. */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  const rows = Math.floor(values.length / cols);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/**
 * Token accuracy and exact match of predicted sequences against targets.
 * Positions where the target equals `pad` are ignored; a sequence is an exact
 * match when every non-pad position agrees (a prediction shorter than its
 * target counts its missing positions as wrong).
 */
export function sequenceAccuracy(
  preds: ArrayLike<number>[],
  targets: ArrayLike<number>[],
  pad = 0,
): { tokenAccuracy: number; exactMatch: number; tokens: number } {
  if (preds.length !== targets.length) {
    throw new Error(`sequenceAccuracy: ${preds.length} predictions for ${targets.length} targets`);
  }
  let tokens = 0, hit = 0, exact = 0;
  for (let s = 0; s < targets.length; s++) {
    const p = preds[s], t = targets[s];
    let allOk = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === pad) continue;
      tokens++;
      if (i < p.length && p[i] === t[i]) hit++;
      else allOk = false;
    }
    if (allOk) exact++;
  }
  return {
    tokenAccuracy: tokens ? hit / tokens : 0,
    exactMatch: targets.length ? exact / targets.length : 0,
    tokens,
  };
}
