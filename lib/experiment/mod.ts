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
export { ExperimentError, parseMetricName } from "./validate.ts";
export { type LoadedExperiment, loadExperiment, type LoadOptions } from "./loader.ts";
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
  isLive,
  readStatus,
  RUN_FILES,
  RunBusyError,
  runDir,
} from "./run.ts";
export { buildReports, runSweep, type SweepOptions, type SweepSummary } from "./sweep.ts";
export type { LaunchContext, LauncherModule, LaunchRun } from "./launch.ts";
export { envRecord, getCodeVersion } from "./env.ts";
export { isLocked, LOCK_FILE, RunLock } from "./lock.ts";
export { DamagedFileError, exists, writeFileAtomic, writeJsonAtomic } from "../util/atomic.ts";
export { ProgressDisplay } from "./progress.ts";
export { experimentJsonSchema } from "./json_schema.ts";
