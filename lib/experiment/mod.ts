/**
 * Experiments: configs, the experiment file schema, validation, planning,
 * running and resuming, and the results format.
 *
 * @module
 */
export * from "../contract/config.ts";
export * from "../contract/results.ts";
export * from "./schema.ts";
export type { ExperimentSource, Position, Segment } from "./source.ts";
export {
  ExperimentError,
  type LoadedExperiment,
  loadExperiment,
  type LoadOptions,
  parseMetricName,
} from "./validate.ts";
export {
  axisGroups,
  canonicalJson,
  expandVariants,
  type Plan,
  type PlannedRun,
  runIdOf,
  seedsOf,
  type Variant,
  variantKey,
} from "./plan.ts";
export {
  collectRngs,
  type ExecuteOptions,
  executeRun,
  readStatus,
  RUN_FILES,
  runDir,
} from "./run.ts";
export { buildReports, runSweep, type SweepOptions, type SweepSummary } from "./sweep.ts";
export type { LaunchContext, LauncherModule, LaunchRun } from "./launch.ts";
export { envRecord, getCodeVersion } from "./env.ts";
export { ProgressDisplay } from "./progress.ts";
export { experimentJsonSchema } from "./json_schema.ts";
