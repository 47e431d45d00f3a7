/**
 * What each report chart draws, computed from loaded results: the inputs of
 * the chart builders in `charts.ts`. The report (`report.ts`) and the results
 * API (`api.ts`) both draw from these, so a chart in a notebook shows the
 * same numbers as the chart of the same name on the page.
 *
 * @module
 */
import type { Comparison, EffectPoint, Variant, VariantMetric } from "./analysis.ts";
import { labelOf, valueText } from "./analysis.ts";
import type { EffectRow, IntervalRow, Series } from "./charts.ts";
import { fmt, fmtSigned } from "./format.ts";
import type { ExperimentData } from "./load.ts";

/**
 * One series per run that is done or still running, of `split`/`metric` by
 * step (runs without such a line are left out).
 */
export function curveSeries(
  data: ExperimentData,
  variants: Variant[],
  split: string,
  metric: string,
): Series[] {
  return data.runs.filter((r) => ["done", "running"].includes(r.status.state)).map((r) => ({
    label: labelOf(variants, r),
    runId: r.run.id,
    seed: r.run.seed,
    points: r.metrics.filter((l) => l.split === split && typeof l[metric] === "number")
      .map((l) => ({ x: l.step, y: l[metric] as number })),
  })).filter((s) => s.points.length > 0);
}

/**
 * Whether a metric is a proportion whose intervals are drawn within 0–1:
 * named like accuracy, exact match, F1, precision, recall or AUC, with every
 * value in 0–1.
 */
export function isProportion(name: string, metrics: VariantMetric[]): boolean {
  return /acc|match|f1|precision|recall|auc/i.test(name) &&
    metrics.every((x) => x.values.every((v) => v.value >= 0 && v.value <= 1));
}

/** The final-metric chart's rows: per variant the mean, its interval and each seed's value. */
export function finalRows(metrics: VariantMetric[]): IntervalRow[] {
  return metrics.map((x) => ({
    label: x.variant.label,
    color: x.variant.label,
    mean: x.summary.mean,
    lo: x.summary.lo,
    hi: x.summary.hi,
    points: x.values.map((v) => ({ value: v.value, title: `seed ${v.seed}: ${fmt(v.value)}` })),
  }));
}

/** An axis effect's rows; intervals cut to 0–1 for a proportion. */
export function effectRows(points: EffectPoint[], proportion: boolean): EffectRow[] {
  return points.map((p) => ({
    value: p.value,
    mean: p.summary.mean,
    lo: proportion ? Math.max(0, p.summary.lo) : p.summary.lo,
    hi: proportion ? Math.min(1, p.summary.hi) : p.summary.hi,
    seeds: p.perSeed,
  }));
}

/** The paired-difference chart's rows: per variant the per-seed differences from the baseline. */
export function pairedRows(comparisons: Comparison[]): IntervalRow[] {
  return comparisons.map((x) => ({
    label: x.variant.label,
    color: x.variant.label,
    mean: x.test.mean,
    lo: x.test.lo,
    hi: x.test.hi,
    points: x.test.diffs.map((d, i) => ({
      value: d,
      title: `seed ${x.seeds[i]}: ${fmtSigned(d)}`,
    })),
  }));
}

/** The axes of a two-axis heatmap: names, values in the manifest's order, the metric. */
export function heatmapAxes(
  data: ExperimentData,
  rowAxis: string,
  colAxis: string,
  key: string,
): { row: string; col: string; rows: string[]; cols: string[]; value: string } {
  return {
    row: rowAxis,
    col: colAxis,
    rows: (data.manifest.axes[rowAxis] ?? []).map(valueText),
    cols: (data.manifest.axes[colAxis] ?? []).map(valueText),
    value: key,
  };
}
