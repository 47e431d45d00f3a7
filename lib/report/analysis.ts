/**
 * The numbers a report shows, computed from a loaded results folder:
 * variants and their labels, final metrics per variant over seeds, effects
 * per axis, and paired comparisons against the baseline. No rendering here.
 *
 * @module
 */
import { type Correction, DEFAULT_CORRECTION, type RunState } from "../contract/results.ts";
import type { ExperimentData, RunData } from "./load.ts";
import {
  adjustP,
  ALPHA,
  mean,
  type PairedTest,
  pairedTest,
  pairsForPower,
  pairsForSignFlip,
  summarize,
  type Summary,
} from "./stats.ts";

/** One variant (a point in the axes' grid) and its runs. */
export interface Variant {
  /** The manifest's variant key, e.g. `model.positional=learned`. */
  key: string;
  /**
   * Short label: the value when there is one axis; else string values bare
   * and others `leaf=value`, joined by " · ".
   */
  label: string;
  /** Axis path → value. */
  values: Record<string, unknown>;
  /** Its planned runs (one per seed). */
  runs: RunData[];
}

/** Runs whose final metrics count in averages. */
export function usable(r: RunData): boolean {
  return r.status.state === "done";
}

/** Renders an axis value for people: strings bare, everything else as JSON. */
export function valueText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
}

/** The last path segment of an axis (`model.positional` → `positional`). */
export function axisLeaf(axis: string): string {
  return axis.split(".").pop() ?? axis;
}

/** Variants in plan order, with readable labels. */
export function variantsOf(data: ExperimentData): Variant[] {
  const axes = Object.keys(data.manifest.axes);
  const byKey = new Map<string, Variant>();
  for (const r of data.runs) {
    let v = byKey.get(r.run.variantKey);
    if (!v) {
      const values = r.run.variant;
      const label = axes.length === 1
        ? valueText(values[axes[0]])
        : axes.length === 0
        ? r.run.variantKey || "default"
        : axes.map((a) =>
          typeof values[a] === "string"
            ? valueText(values[a])
            : `${axisLeaf(a)}=${valueText(values[a])}`
        ).join(" · ");
      v = { key: r.run.variantKey, label, values, runs: [] };
      byKey.set(v.key, v);
    }
    v.runs.push(r);
  }
  const variants = [...byKey.values()];
  // labels must be unique to serve as chart categories
  const seen = new Map<string, number>();
  for (const v of variants) seen.set(v.label, (seen.get(v.label) ?? 0) + 1);
  for (const v of variants) if ((seen.get(v.label) ?? 0) > 1) v.label = v.key;
  return variants;
}

/** Which `<split>/<metric>` key is the primary metric: `test/…` when any run has it, else `val/…`. */
export function primaryKey(data: ExperimentData): string {
  const m = data.manifest.primary.metric;
  if (m.includes("/")) return m;
  const has = (k: string) => data.runs.some((r) => r.status.final && k in r.status.final);
  if (has(`test/${m}`)) return `test/${m}`;
  if (has(`val/${m}`)) return `val/${m}`;
  if (has(`train/${m}`)) return `train/${m}`;
  return `test/${m}`;
}

/**
 * Whether higher is better for a metric key, as far as the manifest tells:
 * the primary metric's direction, else lower for losses, errors and error
 * rates (`wer`, `per`, `cer`, also as `wer_greedy` …), perplexity and time.
 */
export function higherIsBetter(data: ExperimentData, key: string): boolean {
  const name = key.split("/").pop() ?? key;
  if (name === data.manifest.primary.metric.split("/").pop()) {
    return data.manifest.primary.higherIsBetter;
  }
  return !/loss|error|perplexity|ppl|bpc|time|seconds|^[wpc]er(_|$)/i.test(name);
}

/** Every final-metric key seen, primary first, then `compare` metrics, then the rest sorted. */
export function metricKeys(data: ExperimentData): string[] {
  const all = new Set<string>();
  for (const r of data.runs) for (const k of Object.keys(r.status.final ?? {})) all.add(k);
  const primary = primaryKey(data);
  const order: string[] = [primary];
  for (const c of data.manifest.compare) {
    for (const split of ["test", "val"]) order.push(c.includes("/") ? c : `${split}/${c}`);
  }
  const rest = [...all].filter((k) => !order.includes(k)).sort();
  return [...new Set([...order.filter((k) => all.has(k) || k === primary), ...rest])];
}

/** Names that look like proportions, for results whose manifest declares no range. */
const PROPORTION = /acc|match|f1|precision|recall|auc/i;

/**
 * The range a metric's values can take, for keeping its intervals inside:
 * the manifest's declared range for the bare name (`test/exact_match@16` →
 * `exact_match@16`, then `exact_match`), else [0, 1] when the name looks
 * like a proportion (accuracy, match, F1, precision, recall, AUC) and every
 * final value lies in 0–1; else none.
 */
export function metricRange(data: ExperimentData, key: string): [number, number] | undefined {
  const name = key.split("/").pop() ?? key;
  const ranges = data.manifest.ranges ?? {};
  const declared = ranges[name] ?? ranges[name.split("@")[0]];
  if (declared) return declared;
  if (!PROPORTION.test(name)) return undefined;
  const values = data.runs.map((r) => finalOf(r, key)).filter((v) => v !== undefined);
  return values.every((v) => v >= 0 && v <= 1) ? [0, 1] : undefined;
}

/** The experiment's family-wise correction (the manifest's, else {@link DEFAULT_CORRECTION}). */
export function correctionOf(data: ExperimentData): Correction {
  return data.manifest.correction ?? DEFAULT_CORRECTION;
}

/** A run's finite final value of a metric, or undefined. */
export function finalOf(r: RunData, key: string): number | undefined {
  const v = r.status.final?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The seeds' values of a metric for a variant, from usable runs. */
export interface VariantMetric {
  variant: Variant;
  values: { seed: number; value: number; runId: string }[];
  summary: Summary;
  /** Planned runs, and why some are missing from the values. */
  planned: number;
  missing: { state: RunState | "no value"; count: number }[];
}

/**
 * Summarizes one metric per variant over its usable runs; with `range` (see
 * {@link metricRange}) the interval is kept inside it.
 */
export function variantMetric(
  variant: Variant,
  key: string,
  range?: readonly [number, number],
): VariantMetric {
  const values: VariantMetric["values"] = [];
  const missing = new Map<RunState | "no value", number>();
  for (const r of variant.runs) {
    const v = finalOf(r, key);
    if (usable(r) && v !== undefined) values.push({ seed: r.run.seed, value: v, runId: r.run.id });
    else {
      const why = usable(r) ? "no value" : r.status.state;
      missing.set(why, (missing.get(why) ?? 0) + 1);
    }
  }
  return {
    variant,
    values,
    summary: summarize(values.map((v) => v.value), 0.95, range),
    planned: variant.runs.length,
    missing: [...missing].map(([state, count]) => ({ state, count })),
  };
}

/** Why runs are missing, e.g. "of 3: 1 diverged"; empty when every planned run counts. */
export function missingNote(m: VariantMetric): string {
  if (!m.missing.length) return "";
  return `of ${m.planned}: ${m.missing.map((x) => `${x.count} ${x.state}`).join(", ")}`;
}

/** A variant paired with the baseline by seed, and the tests of the differences. */
export interface Pairing {
  /** The variant compared. */
  variant: Variant;
  /** The baseline it is compared with. */
  baseline: Variant;
  /** The seeds where both runs are done, in pairing order. */
  seeds: number[];
  /** Differences variant − baseline and their tests. */
  test: PairedTest;
}

/** A variant compared with the baseline: its pairing, judged within the family of comparisons. */
export interface Comparison extends Pairing {
  /**
   * The test the verdict rests on: the paired t-test; the sign-flip test when
   * every difference is the same non-zero value (no spread); none with fewer
   * than 2 pairs or identical values.
   */
  pBy: "paired t" | "sign-flip" | "none";
  /** That test's p-value (NaN when `pBy` is "none"). */
  p: number;
  /** `p` adjusted for the family of comparisons by `correction` (NaN when `p` is). */
  pAdjusted: number;
  /** The family-wise correction applied. */
  correction: Correction;
  /** How many comparisons the family has (those with a p-value). */
  family: number;
  /** Whether `pAdjusted` < {@link ALPHA}. */
  distinguishable: boolean;
  /**
   * The level a future test of this comparison alone would need so that it
   * stands after the correction: α / family (Holm's strictest step, and
   * Bonferroni's), or α without a correction.
   */
  alphaPlanned: number;
  /**
   * For a comparison that is not distinguishable: the seeds (pairs) at which
   * an effect of the observed size would be found with 80% power at
   * `alphaPlanned` (paired t with the observed d_z; with no spread, the
   * sign-flip test's fewest seeds). Infinity when no count would do (no
   * difference observed, or more than a million); NaN when distinguishable
   * or with fewer than 2 pairs.
   */
  seedsNeeded: number;
}

/** Options of {@link compareToBaseline}. */
export interface CompareOptions {
  /** The metric's range (see {@link metricRange}): intervals of differences stay inside. */
  range?: readonly [number, number];
  /** Family-wise correction over the comparisons (default {@link DEFAULT_CORRECTION}). */
  correction?: Correction;
}

/**
 * Pairs every non-baseline variant with the baseline by seed on `key`,
 * tests each difference, adjusts the p-values for the family of comparisons
 * and, where a comparison is not distinguishable, says how many seeds would
 * settle it.
 */
export function compareToBaseline(
  variants: Variant[],
  baseline: Variant,
  key: string,
  options: CompareOptions = {},
): Comparison[] {
  const base = new Map<number, number>();
  for (const r of baseline.runs) {
    const v = finalOf(r, key);
    if (usable(r) && v !== undefined) base.set(r.run.seed, v);
  }
  const pairings = variants.filter((v) => v !== baseline).map((variant): Pairing => {
    const a: number[] = [];
    const b: number[] = [];
    const seeds: number[] = [];
    for (const r of variant.runs) {
      const v = finalOf(r, key);
      const w = base.get(r.run.seed);
      if (usable(r) && v !== undefined && w !== undefined) {
        a.push(v);
        b.push(w);
        seeds.push(r.run.seed);
      }
    }
    return { variant, baseline, seeds, test: pairedTest(a, b, 0.95, options.range) };
  });
  return judge(pairings, options.correction);
}

/**
 * Judges a family of pairings: each one's deciding test and p-value, the
 * p-values adjusted for the family by `correction`, the verdict's
 * "distinguishable" (adjusted p < {@link ALPHA}) and, for the rest, the seeds
 * that would settle it (see {@link Comparison.seedsNeeded}).
 */
export function judge(
  pairings: readonly Pairing[],
  correction: Correction = DEFAULT_CORRECTION,
): Comparison[] {
  const decided = pairings.map((c) => {
    const test = c.test;
    const pBy: Comparison["pBy"] = test.n < 2 || test.identical
      ? "none"
      : test.flat
      ? "sign-flip"
      : "paired t";
    const p = pBy === "paired t" ? test.pT : pBy === "sign-flip" ? test.pSignFlip : NaN;
    return { ...c, pBy, p };
  });
  const adjusted = adjustP(decided.map((c) => c.p), correction);
  const family = decided.filter((c) => !Number.isNaN(c.p)).length;
  const alphaPlanned = correction === "none" ? ALPHA : ALPHA / Math.max(1, family);
  return decided.map((c, i) => {
    const distinguishable = adjusted[i] < ALPHA;
    let seedsNeeded = NaN;
    if (!distinguishable && c.test.n >= 2) {
      seedsNeeded = c.test.identical
        ? Infinity
        : c.pBy === "sign-flip"
        ? pairsForSignFlip(alphaPlanned)
        : pairsForPower(c.test.dz, alphaPlanned);
      // the observed effect is not enough at n seeds, so more are needed (guards rounding)
      if (seedsNeeded <= c.test.n) seedsNeeded = c.test.n + 1;
    }
    return {
      ...c,
      pAdjusted: adjusted[i],
      correction,
      family,
      distinguishable,
      alphaPlanned,
      seedsNeeded,
    };
  });
}

/** The baseline variant: the manifest's `baseline`, else the first variant. */
export function baselineOf(data: ExperimentData, variants: Variant[]): Variant | undefined {
  return variants.find((v) => v.key === data.manifest.baseline) ?? variants[0];
}

/**
 * The comparisons a report makes on `key` (the primary metric by default):
 * every variant against the baseline, with the metric's range and the
 * experiment's correction, exactly as the report page shows them.
 */
export function comparisonsOf(data: ExperimentData, key = primaryKey(data)): Comparison[] {
  const variants = variantsOf(data);
  const baseline = baselineOf(data, variants);
  if (!baseline) return [];
  return compareToBaseline(variants, baseline, key, {
    range: metricRange(data, key),
    correction: correctionOf(data),
  });
}

/** One value of one axis with the other axes averaged. */
export interface EffectPoint {
  value: string;
  /** Per seed: the mean over the variants having this value. */
  perSeed: { seed: number; value: number }[];
  summary: Summary;
  /** Variants averaged over. */
  variants: number;
}

/**
 * For an axis, the metric by value with the other axes averaged: for each
 * seed, the mean over that seed's usable runs having the value; then the
 * mean and t-interval of those per-seed averages (kept inside `range`).
 */
export function axisEffect(
  data: ExperimentData,
  axis: string,
  key: string,
  range?: readonly [number, number],
): EffectPoint[] {
  const values = data.manifest.axes[axis] ?? [];
  return values.map((value) => {
    const text = valueText(value);
    const runs = data.runs.filter((r) => valueText(r.run.variant[axis]) === text);
    const bySeed = new Map<number, number[]>();
    for (const r of runs) {
      const v = finalOf(r, key);
      if (!usable(r) || v === undefined) continue;
      bySeed.set(r.run.seed, [...(bySeed.get(r.run.seed) ?? []), v]);
    }
    const perSeed = [...bySeed].sort((a, b) => a[0] - b[0]).map(([seed, vs]) => ({
      seed,
      value: mean(vs),
    }));
    return {
      value: text,
      perSeed,
      summary: summarize(perSeed.map((p) => p.value), 0.95, range),
      variants: new Set(runs.map((r) => r.run.variantKey)).size,
    };
  });
}

/** Mean of a metric over usable runs for each pair of values of two axes. */
export function twoAxisGrid(
  data: ExperimentData,
  rowAxis: string,
  colAxis: string,
  key: string,
): { row: string; col: string; mean: number; n: number }[] {
  const cells: { row: string; col: string; mean: number; n: number }[] = [];
  for (const rv of data.manifest.axes[rowAxis] ?? []) {
    for (const cv of data.manifest.axes[colAxis] ?? []) {
      const row = valueText(rv);
      const col = valueText(cv);
      const vs = data.runs.filter((r) =>
        usable(r) && valueText(r.run.variant[rowAxis]) === row &&
        valueText(r.run.variant[colAxis]) === col
      ).map((r) => finalOf(r, key)).filter((v): v is number => v !== undefined);
      cells.push({ row, col, mean: mean(vs), n: vs.length });
    }
  }
  return cells;
}

/** The latest time recorded in the results (ISO), or "" when none is. */
export function latestTime(data: ExperimentData): string {
  let t = "";
  for (const r of data.runs) {
    for (const s of [r.status.startedAt, r.status.endedAt]) if (s && s > t) t = s;
  }
  return t;
}

/** The earliest start recorded in the results (ISO), or "". */
export function earliestTime(data: ExperimentData): string {
  let t = "";
  for (const r of data.runs) {
    const s = r.status.startedAt;
    if (s && (!t || s < t)) t = s;
  }
  return t;
}

/** Count of runs per state, in a fixed order. */
export function stateCounts(data: ExperimentData): [RunState, number][] {
  const order: RunState[] = ["done", "running", "pending", "failed", "diverged"];
  const counts = new Map<RunState, number>();
  for (const r of data.runs) counts.set(r.status.state, (counts.get(r.status.state) ?? 0) + 1);
  return order.filter((s) => counts.has(s)).map((s) => [s, counts.get(s)!]);
}

/** The best variant on the primary metric, by mean over usable runs. */
export function bestVariant(data: ExperimentData): VariantMetric | undefined {
  const key = primaryKey(data);
  const hib = data.manifest.primary.higherIsBetter;
  let best: VariantMetric | undefined;
  for (const v of variantsOf(data)) {
    const m = variantMetric(v, key);
    if (!m.values.length) continue;
    if (!best || (hib ? m.summary.mean > best.summary.mean : m.summary.mean < best.summary.mean)) {
      best = m;
    }
  }
  return best;
}

/** The label of a run's variant. */
export function labelOf(variants: Variant[], r: RunData): string {
  return variants.find((v) => v.key === r.run.variantKey)?.label ?? r.run.variantKey;
}
