/**
 * Report pages: per-experiment `report.html` with charts (SVG and PNG) and
 * the `results/index.html` of every experiment, built from the results
 * folder alone (see `lib/contract/results.ts`).
 *
 * @module
 */
export { buildReport, type RenderedReport, renderReport, verdict } from "./report.ts";
export { buildIndex, experimentDirs } from "./index_page.ts";
export { type ExperimentData, loadResults, type RunData } from "./load.ts";
/** Statistics over seeds: mean, std, Student t, intervals, paired tests. */
export * as stats from "./stats.ts";
export type { PairedTest, Summary } from "./stats.ts";
export { svgToPng } from "./png.ts";
/** The results API for scripts and notebooks (runs, metrics, statistics, figures). */
export * as resultsApi from "./api.ts";
export { csvFiles, type CsvValue, type MetricRow, metricsCsv, runsCsv } from "./csv.ts";
export type { Chart } from "./charts.ts";
export type { Comparison, Variant as ReportVariant } from "./analysis.ts";
