/**
 * What each report chart draws, computed from loaded results: the inputs of
 * the chart builders in `charts.ts`. The report (`report.ts`) and the results
 * API (`api.ts`) both draw from these, so a chart in a notebook shows the
 * same numbers as the chart of the same name on the page.
 *
 * @module
 */
import type { Comparison, EffectPoint, Variant, VariantMetric } from "./analysis.ts";
import { labelOf, usable, valueText } from "./analysis.ts";
import {
  curvesPlot,
  type EffectRow,
  type IntervalRow,
  matrixPlot,
  type PlotSpec,
  type Series,
} from "./charts.ts";
import { fmt, fmtSigned } from "./format.ts";
import type { ExperimentData, RunData } from "./load.ts";

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

/** An axis effect's rows (intervals as `axisEffect` gives them, cut at the metric's range). */
export function effectRows(points: EffectPoint[]): EffectRow[] {
  return points.map((p) => ({
    value: p.value,
    mean: p.summary.mean,
    lo: p.summary.lo,
    hi: p.summary.hi,
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

// ---- model insight (artifacts/<name>.json; see ARTIFACTS in lib/contract/results.ts)

/** Largest side of a matrix image (positions or dimensions beyond are cut). */
export const MAX_SIDE = 64;

/** The variant's run that recorded an artifact: done runs first, then by seed. */
export function firstWith(v: Variant, name: string): RunData | undefined {
  const sorted = [...v.runs].sort((a, b) =>
    Number(usable(b)) - Number(usable(a)) || a.run.seed - b.run.seed
  );
  return sorted.find((r) => r.artifacts[name] !== undefined);
}

function isMatrix(x: unknown): x is number[][] {
  return Array.isArray(x) && x.length > 0 && x.every((r) => Array.isArray(r));
}

/** Cosine similarity of every pair of rows. */
export function cosineSimilarity(m: number[][]): number[][] {
  const norms = m.map((r) => Math.sqrt(r.reduce((s, v) => s + v * v, 0)) || 1);
  return m.map((a, i) =>
    m.map((b, j) => a.reduce((s, v, k) => s + v * (b[k] ?? 0), 0) / (norms[i] * norms[j]))
  );
}

/** A variant's positional table: the run it is from, its kind, whole and cut to MAX_SIDE. */
export function positionalInput(
  v: Variant,
): { run: RunData; kind?: string; full: number[][]; cut: number[][] } | undefined {
  const run = firstWith(v, "positional");
  if (!run) return undefined;
  const a = run.artifacts.positional as { kind?: string; matrix?: unknown };
  if (!isMatrix(a.matrix)) return undefined;
  const full = a.matrix as number[][];
  const cut = full.slice(0, MAX_SIDE).map((row) => row.slice(0, MAX_SIDE));
  return { run, kind: a.kind, full, cut };
}

/** A positional table as an image: positions (rows) × dimensions (columns). */
export function positionalPlot(cut: number[][]): PlotSpec {
  return matrixPlot(cut, {
    width: 420,
    x: "dimension",
    y: "position",
    value: "encoding value",
    diverging: true,
  });
}

/** The cosine similarity of the first MAX_SIDE positions of a table (all dimensions). */
export function similarityPlot(full: number[][]): PlotSpec {
  return matrixPlot(cosineSimilarity(full.slice(0, MAX_SIDE)), {
    width: 420,
    x: "position",
    y: "position",
    value: "cosine similarity",
    diverging: true,
  });
}

/** A variant's attention maps for one sample: up to 4 layers of up to 8 heads. */
export function attentionInput(v: Variant): {
  run: RunData;
  tokens: string[];
  layers: { layer: string; heads: number[][][] }[];
  /** Layers recorded (more than drawn when cut). */
  recorded: number;
} | undefined {
  const run = firstWith(v, "attention");
  if (!run) return undefined;
  const a = run.artifacts.attention as {
    tokens?: unknown[];
    layers?: { layer: unknown; heads: unknown }[];
  };
  if (!Array.isArray(a.layers)) return undefined;
  const layers = a.layers.filter((l) => Array.isArray(l.heads)).slice(0, 4).map((l) => ({
    layer: typeof l.layer === "number" ? `layer ${l.layer}` : valueText(l.layer),
    heads: (l.heads as number[][][]).slice(0, 8),
  }));
  if (!layers.length) return undefined;
  const tokens = (a.tokens ?? []).map((t) => valueText(t));
  return { run, tokens, layers, recorded: a.layers.length };
}

/** A variant's GMU gate activations, pooled over its finished runs (else all that have them). */
export function gatesInput(v: Variant): {
  runs: RunData[];
  /** Whether the runs are finished ones. */
  finished: boolean;
  samples: { modality: string; gate: number; signal?: string }[];
  modalities: string[];
} | undefined {
  const withGates = v.runs.filter((r) => r.artifacts.gates !== undefined);
  const done = withGates.filter(usable);
  const runs = done.length ? done : withGates;
  if (!runs.length) return undefined;
  const samples: { modality: string; gate: number; signal?: string }[] = [];
  let modalities: string[] = [];
  for (const r of runs) {
    const g = r.artifacts.gates as {
      modalities?: string[];
      values?: number[][];
      informative?: number[];
    };
    if (!Array.isArray(g.modalities) || !Array.isArray(g.values)) continue;
    modalities = g.modalities;
    g.values.forEach((row, i) => {
      const inf = g.informative?.[i];
      row.forEach((gate, k) => {
        if (!Number.isFinite(gate)) return;
        samples.push({
          modality: g.modalities![k] ?? String(k),
          gate,
          ...(inf !== undefined ? { signal: g.modalities![inf] ?? String(inf) } : {}),
        });
      });
    });
  }
  if (!samples.length) return undefined;
  return { runs, finished: done.length > 0, samples, modalities };
}

/** The done runs that recorded a length-generalization artifact. */
export function lengthRuns(data: ExperimentData): RunData[] {
  return data.runs.filter((r) => r.artifacts.length_generalization !== undefined && usable(r));
}

/** The metrics of the length-generalization artifacts, `first` (the primary) first, then sorted. */
export function lengthMetrics(data: ExperimentData, first: string): string[] {
  const names = new Set<string>();
  for (const r of lengthRuns(data)) {
    const a = r.artifacts.length_generalization as { metrics?: Record<string, unknown> };
    for (const k of Object.keys(a.metrics ?? {})) names.add(k);
  }
  return [...names].sort((a, b) => Number(b === first) - Number(a === first) || a.localeCompare(b));
}

/** One series per done run: a metric by evaluation length. */
export function lengthSeries(data: ExperimentData, variants: Variant[], metric: string): Series[] {
  return lengthRuns(data).map((r) => {
    const a = r.artifacts.length_generalization as {
      lengths?: number[];
      metrics?: Record<string, number[]>;
    };
    const ys = a.metrics?.[metric] ?? [];
    return {
      label: labelOf(variants, r),
      runId: r.run.id,
      seed: r.run.seed,
      points: (a.lengths ?? []).map((x, i) => ({ x, y: ys[i] })).filter((p) =>
        typeof p.y === "number"
      ),
    };
  }).filter((s) => s.points.length);
}

/** The metrics recorded per output position (`byPosition` of the length artifacts), sorted. */
export function positionMetrics(data: ExperimentData): string[] {
  const names = new Set<string>();
  for (const r of lengthRuns(data)) {
    const a = r.artifacts.length_generalization as { byPosition?: Record<string, unknown> };
    for (const k of Object.keys(a.byPosition ?? {})) names.add(k);
  }
  return [...names].sort();
}

/** One series per done run: a metric by output position. */
export function positionSeries(
  data: ExperimentData,
  variants: Variant[],
  metric: string,
): Series[] {
  return lengthRuns(data).map((r) => {
    const a = r.artifacts.length_generalization as {
      positions?: number[];
      byPosition?: Record<string, (number | null)[]>;
    };
    const ys = a.byPosition?.[metric] ?? [];
    return {
      label: labelOf(variants, r),
      runId: r.run.id,
      seed: r.run.seed,
      points: (a.positions ?? []).map((x, i) => ({ x, y: ys[i] as number })).filter((p) =>
        typeof p.y === "number"
      ),
    };
  }).filter((s) => s.points.length);
}

/** A metric by output position, per variant (mean, min–max band, seeds). */
export function positionPlot(series: Series[], labels: string[], metric: string): PlotSpec {
  return curvesPlot(series, labels, { x: "output position", y: metric, logY: false });
}

/**
 * A metric by evaluation length, per variant (mean, min–max band, seeds);
 * `logX` draws lengths on a base-2 log scale (L, 2L, 4L, …).
 */
export function lengthPlot(
  series: Series[],
  labels: string[],
  metric: string,
  logX = false,
): PlotSpec {
  return curvesPlot(series, labels, { x: "evaluation length", y: metric, logY: false, logX });
}
