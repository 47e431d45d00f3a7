/**
 * Report pages: per-experiment `report.html` with charts (SVG and PNG) and
 * the `results/index.html` of every experiment, built from the results
 * folder alone (see `lib/experiment/results.ts`).
 *
 * @module
 */
export { buildReport, renderReport, verdict } from "./report.ts";
export { buildIndex, experimentDirs } from "./index_page.ts";
export { type ExperimentData, loadExperiment, type RunData } from "./load.ts";
export * from "./stats.ts";
export { svgToPng } from "./png.ts";
