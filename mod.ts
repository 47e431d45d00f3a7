/**
 * fuselab: Transformer and multimodal-fusion ablations on TensorFlow.js.
 *
 * The public API, in the order of the README: the paper's concepts (the
 * Annotated Transformer's layers, the Gated Multimodal Unit and the other
 * fusions, composed models, losses), training (Adam over gradients keyed by
 * parameter path with `valueAndGrads`, the Noam rate, decoding, checkpoints,
 * the loop), tasks, data and metrics, the experiment API, the backends and
 * the report builder.
 *
 * Internals have their own entry points: `lib/engine/mod.ts` (kernel
 * replacements, WebGPU checks and switches, the OpenBLAS kernels) and
 * `lib/launch/mod.ts` (the Slurm launcher).
 *
 * @module
 */

// The paper's concepts: layers and losses, fusion, composed models.
export * from "./lib/nn/mod.ts";
export * from "./lib/fusion/mod.ts";
export * from "./lib/models/mod.ts";

// Training: Adam, valueAndGrads, noamRate, decoding, checkpoints, the loop; the seeded generator.
export * from "./lib/train/mod.ts";
export { Rng } from "./lib/util/rng.ts";

// Tasks, data, metrics.
export * from "./lib/tasks/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/metrics/mod.ts";

// The experiment API: defineExperiment, loadExperiment, runSweep, the run contract.
export * from "./lib/experiment/mod.ts";
export type { Metrics, TaskRun } from "./lib/contract/task_run.ts";

// Backends.
export {
  type BackendInfo,
  type BackendName,
  BACKENDS,
  BackendUnavailableError,
  currentBackend,
  describeBackend,
  selectBackend,
} from "./lib/engine/backend.ts";

// The report builder.
export * from "./lib/report/mod.ts";
