/**
 * The results API, for scripts and notebooks: an experiment's results as
 * plain arrays and records, the statistics the report computes (the same
 * functions, from `analysis.ts` and `stats.ts`), and every report chart as a
 * function returning its Observable Plot figure.
 *
 * ```ts
 * import * as fl from "./lib/report/api.ts";
 * const r = await fl.openResults("results/quickstart");
 * r.runs;                      // one record per run: the columns of runs.csv
 * fl.comparisonTable(r);       // each variant vs the baseline, paired by seed
 * fl.curvesFigure(r, { split: "val", metric: "exact_match" }); // shown inline in Jupyter
 * ```
 *
 * A figure is the SVG element Plot drew, wrapped with the legend the report
 * draws; it shows itself in a Deno Jupyter notebook and its `spec` holds the
 * Plot options, to change and draw again with {@link figure}.
 *
 * @module
 */
import { parseHTML } from "linkedom";
import type { Manifest } from "../contract/results.ts";
import {
  axisEffect,
  compareToBaseline,
  type Comparison,
  comparisonsOf,
  type EffectPoint,
  higherIsBetter,
  metricRange,
  primaryKey,
  twoAxisGrid,
  type Variant,
  type VariantMetric,
  variantMetric,
  variantsOf,
} from "./analysis.ts";
import {
  attentionPlot,
  curvesPlot,
  effectPlot,
  gatesPlot,
  gridHeatmapPlot,
  intervalPlot,
  type PlotSpec,
  renderSpec,
  variantColors as paletteFor,
} from "./charts.ts";
import { type MetricRow, metricRows, runRows } from "./csv.ts";
import {
  attentionInput,
  curveSeries,
  effectRows,
  finalRows,
  gatesInput,
  heatmapAxes,
  lengthMetrics,
  lengthPlot,
  lengthRuns,
  lengthSeries,
  pairedRows,
  positionalInput,
  positionalPlot,
  positionMetrics,
  positionPlot,
  positionSeries,
  similarityPlot,
} from "./figures.ts";
import { type ExperimentData, join, loadResults } from "./load.ts";
import { lengthInfo } from "./length_table.ts";
import { shortVerdict, verdict } from "./report.ts";

export * as stats from "./stats.ts";
export type { PairedTest, Summary } from "./stats.ts";
export type { Comparison, EffectPoint, MetricRow, PlotSpec, Variant, VariantMetric };
export { axisEffect, compareToBaseline, twoAxisGrid, variantMetric, variantsOf };

/** One experiment's results, as plain data. */
export interface Results {
  /** The experiment's results folder. */
  dir: string;
  /** The experiment's name. */
  name: string;
  /** `manifest.json`: axes, seeds, primary metric, baseline, planned runs. */
  manifest: Manifest;
  /** The primary metric's key, `<split>/<metric>` (e.g. `test/exact_match`). */
  primary: string;
  /** Whether higher is better for the primary metric. */
  higherIsBetter: boolean;
  /** One record per planned run: the columns of `runs.csv` (see `csv.ts`). */
  runs: Record<string, string | number | undefined>[];
  /** Every number of every `metrics.jsonl`: the rows of `metrics.csv`. */
  metrics: MetricRow[];
  /** Run id → its resolved RunConfig (`config.json`), for runs that wrote one. */
  configs: Record<string, Record<string, unknown>>;
  /** Variants in plan order with their report labels and runs. */
  variants: Variant[];
  /** Everything as read from disk (statuses, env, artifacts). */
  data: ExperimentData;
}

async function hasManifest(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, "manifest.json"))).isFile;
  } catch {
    return false;
  }
}

/**
 * Loads an experiment's results: `dir` is its results folder, or its name
 * under `resultsRoot` (default `results`).
 */
export async function openResults(dir: string, resultsRoot = "results"): Promise<Results> {
  const path = (await hasManifest(dir)) || dir.includes("/") ? dir : join(resultsRoot, dir);
  const data = await loadResults(path);
  const configs: Results["configs"] = {};
  for (const r of data.runs) if (r.record?.config) configs[r.run.id] = r.record.config;
  return {
    dir: data.dir,
    name: data.manifest.experiment,
    manifest: data.manifest,
    primary: primaryKey(data),
    higherIsBetter: data.manifest.primary.higherIsBetter,
    runs: runRows(data),
    metrics: metricRows(data),
    configs,
    variants: variantsOf(data),
    data,
  };
}

/** A metric key: `<split>/<metric>` as given, a bare name on the primary metric's split. */
function keyOf(r: Results, metric?: string): string {
  if (!metric) return r.primary;
  return metric.includes("/") ? metric : `${r.primary.split("/")[0]}/${metric}`;
}

/** Per variant, a metric's final values over seeds (done runs): n, mean, std, 95% interval. */
export function summaryTable(r: Results, metric?: string): {
  variant: string;
  n: number;
  mean: number;
  std: number;
  lo: number;
  hi: number;
  values: number[];
}[] {
  const key = keyOf(r, metric);
  const range = metricRange(r.data, key);
  return r.variants.map((v) => {
    const m = variantMetric(v, key, range);
    const s = m.summary;
    return {
      variant: v.label,
      n: s.n,
      mean: s.mean,
      std: s.std,
      lo: s.lo,
      hi: s.hi,
      values: m.values.map((x) => x.value),
    };
  });
}

/**
 * Each variant against the experiment's baseline on a metric, paired by seed,
 * with the metric's range and the experiment's correction (the report's).
 */
export function comparisons(r: Results, metric?: string): Comparison[] {
  return comparisonsOf(r.data, keyOf(r, metric));
}

/** {@link comparisons} as plain records, with the report's verdict in words. */
export function comparisonTable(r: Results, metric?: string): {
  variant: string;
  baseline: string;
  pairs: number;
  meanDifference: number;
  lo: number;
  hi: number;
  t: number;
  pT: number;
  pSignFlip: number;
  /** The p-value the verdict rests on, adjusted for the family of comparisons. */
  pAdjusted: number;
  verdict: string;
  sentence: string;
}[] {
  const key = keyOf(r, metric);
  const hib = higherIsBetter(r.data, key);
  return comparisons(r, metric).map((c) => ({
    variant: c.variant.label,
    baseline: c.baseline.label,
    pairs: c.test.n,
    meanDifference: c.test.mean,
    lo: c.test.lo,
    hi: c.test.hi,
    t: c.test.t,
    pT: c.test.pT,
    pSignFlip: c.test.pSignFlip,
    pAdjusted: c.pAdjusted,
    verdict: shortVerdict(c, hib),
    sentence: verdict(c, key.split("/").pop()!, hib),
  }));
}

/** A chart: the SVG element drawn (legend included), displayable in Jupyter, with its spec. */
export interface Figure {
  /** The standalone SVG document. */
  outerHTML: string;
  /** The Plot options and legend it was drawn from. */
  spec: PlotSpec;
  /** Jupyter's display hook: the figure as `image/svg+xml`. */
  [display: symbol]: () => Record<string, string>;
}

const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

/**
 * Draws a spec (Plot options plus an optional legend) as a figure: the SVG
 * element, which a Deno Jupyter notebook shows inline.
 */
export function figure(spec: PlotSpec, id = "figure"): Figure {
  const svg = renderSpec(id, spec);
  const { document } = parseHTML(`<!doctype html><html><body>${svg}</body></html>`) as unknown as {
    document: { body: { firstElementChild: unknown } };
  };
  const el = document.body.firstElementChild as Figure;
  Object.defineProperty(el, "spec", { value: spec, enumerable: false });
  Object.defineProperty(el, JUPYTER_DISPLAY, {
    value: () => ({ "image/svg+xml": svg }),
    enumerable: false,
  });
  return el;
}

/** A training or validation curve by step: per variant the mean, min–max band and seeds. */
export function curvesFigure(
  r: Results,
  opts: { split?: string; metric?: string; logY?: boolean } = {},
): Figure {
  const split = opts.split ?? "val";
  const metric = opts.metric ?? r.primary.split("/").pop()!;
  const series = curveSeries(r.data, r.variants, split, metric);
  return figure(
    curvesPlot(series, r.variants.map((v) => v.label), {
      x: "step",
      y: `${split}/${metric}`,
      ...(opts.logY !== undefined ? { logY: opts.logY } : {}),
    }),
    `curve-${split}-${metric}`,
  );
}

/** The final value of a metric per variant: seeds as dots, the mean and its 95% interval. */
export function finalFigure(r: Results, metric?: string): Figure {
  const key = keyOf(r, metric);
  const range = metricRange(r.data, key);
  const per = r.variants.map((v) => variantMetric(v, key, range));
  return figure(
    intervalPlot(finalRows(per), r.variants.map((v) => v.label), key, false, range),
    "final",
  );
}

/** Each variant minus the baseline, paired by seed, with the 95% interval of the mean difference. */
export function pairedFigure(r: Results, metric?: string): Figure {
  const key = keyOf(r, metric);
  return figure(
    intervalPlot(
      pairedRows(comparisons(r, metric)),
      r.variants.map((v) => v.label),
      `difference in ${key}`,
      true,
    ),
    "paired",
  );
}

/** A metric by the values of one axis with the other axes averaged (per seed, then over seeds). */
export function effectFigure(r: Results, axis: string, metric?: string): Figure {
  const key = keyOf(r, metric);
  return figure(
    effectPlot(effectRows(axisEffect(r.data, axis, key, metricRange(r.data, key))), axis, key),
    "effect",
  );
}

/** The mean of a metric for each pair of values of two axes. */
export function heatmapFigure(
  r: Results,
  rowAxis: string,
  colAxis: string,
  metric?: string,
): Figure {
  const key = keyOf(r, metric);
  return figure(
    gridHeatmapPlot(
      twoAxisGrid(r.data, rowAxis, colAxis, key),
      heatmapAxes(r.data, rowAxis, colAxis, key),
    ),
    "heatmap",
  );
}

/** The variant labels in plan order with the report's colours, for custom Plot figures. */
export function variantColors(r: Results): { domain: string[]; range: string[] } {
  return paletteFor(r.variants.map((v) => v.label));
}

/**
 * The variant named by its label or key; without a name, the first one for
 * which `has` gives something. Throws, naming the choices, when none fits.
 */
function pick<T>(
  r: Results,
  name: string | undefined,
  what: string,
  has: (v: Variant) => T | undefined,
): { variant: Variant; input: T } {
  const candidates = name === undefined
    ? r.variants
    : r.variants.filter((v) => v.label === name || v.key === name);
  if (name !== undefined && !candidates.length) {
    throw new Error(
      `${r.dir}: no variant "${name}"; variants: ${r.variants.map((v) => v.label).join(", ")}`,
    );
  }
  for (const variant of candidates) {
    const input = has(variant);
    if (input !== undefined) return { variant, input };
  }
  throw new Error(
    `${r.dir}: no run${name === undefined ? "" : ` of ${name}`} recorded ${what} ` +
      `(artifacts/${what}.json)`,
  );
}

/** A variant's positional-encoding table as an image (default: the first variant with one). */
export function positionalFigure(r: Results, variant?: string): Figure {
  const { input } = pick(r, variant, "positional", positionalInput);
  return figure(positionalPlot(input.cut), "positional");
}

/** The cosine similarity between positions of a variant's positional table. */
export function similarityFigure(r: Results, variant?: string): Figure {
  const { input } = pick(r, variant, "positional", positionalInput);
  return figure(similarityPlot(input.full), "similarity");
}

/** A variant's attention weights for one sample, layers × heads. */
export function attentionFigure(r: Results, variant?: string): Figure {
  const { input } = pick(r, variant, "attention", attentionInput);
  return figure(attentionPlot(input.tokens, input.layers), "attention");
}

/** A variant's GMU gate activations per modality, split by the modality carrying the signal. */
export function gatesFigure(r: Results, variant?: string): Figure {
  const { input } = pick(r, variant, "gates", gatesInput);
  return figure(gatesPlot(input.samples, input.modalities), "gates");
}

/** A metric by evaluation length (default: the primary metric, else the first recorded). */
export function lengthFigure(r: Results, metric?: string): Figure {
  const names = lengthMetrics(r.data, r.primary.split("/").pop()!);
  const m = metric ?? names[0];
  if (m === undefined || !names.includes(m)) {
    throw new Error(
      `${r.dir}: no length_generalization artifact with ${m ?? "a metric"}` +
        (names.length ? `; recorded: ${names.join(", ")}` : ""),
    );
  }
  // lengths on a log-2 axis where the task states its training length (language models), as the report
  const logX = lengthInfo(r.variants, lengthRuns(r.data)).trainLength !== undefined;
  return figure(
    lengthPlot(lengthSeries(r.data, r.variants, m), r.variants.map((v) => v.label), m, logX),
    `length-${m}`,
  );
}

/** A metric by output position (default: the first recorded, e.g. `token_accuracy`). */
export function positionFigure(r: Results, metric?: string): Figure {
  const names = positionMetrics(r.data);
  const m = metric ?? names[0];
  if (m === undefined || !names.includes(m)) {
    throw new Error(
      `${r.dir}: no length_generalization artifact with ${m ?? "a metric"} by position` +
        (names.length ? `; recorded: ${names.join(", ")}` : ""),
    );
  }
  return figure(
    positionPlot(positionSeries(r.data, r.variants, m), r.variants.map((v) => v.label), m),
    `position-${m}`,
  );
}
