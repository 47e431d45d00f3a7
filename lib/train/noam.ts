/**
 * The Noam learning-rate schedule (Vaswani et al., 2017, eq. 3):
 * lrate = factor · d_model^−0.5 · min(step^−0.5, step · warmup^−1.5).
 * Step 0 is treated as step 1, as the Annotated Transformer does.
 *
 * @module
 */

/** The Noam rate at `step` (1-based; 0 counts as 1). */
export function noamRate(step: number, dModel: number, factor: number, warmup: number): number {
  const s = Math.max(step, 1);
  return factor * Math.pow(dModel, -0.5) * Math.min(Math.pow(s, -0.5), s * Math.pow(warmup, -1.5));
}
