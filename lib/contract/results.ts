/**
 * The results format: the one contract between running and reporting.
 * The report reads these files and nothing else.
 *
 * ```
 * results/<experiment>/
 *   manifest.json                 Manifest: every planned run
 *   report.html                   written by lib/report (live while a sweep runs)
 *   runs.csv, metrics.csv         written by lib/report: tidy exports (lib/report/csv.ts)
 *   runs/<run-id>/
 *     config.json                 RunRecord: resolved config, variant, seed
 *     env.json                    EnvRecord: Deno, tfjs, backend, machine, code version
 *     metrics.jsonl               MetricsLine per line, appended while training
 *     status.json                 StatusRecord: state, timings, final metrics, error
 *     checkpoint.safetensors      parameters, Adam moments; metadata: step, epoch, rng, line count
 *     artifacts/<name>.json       model insight (see ARTIFACTS)
 *     run.lock                    held (OS file lock) by the process training the run (lock.ts)
 * results/index.html              every experiment
 * ```
 * Every file is written atomically (temporary file, then rename);
 * `metrics.jsonl` is only ever appended whole lines, and truncated back to
 * the last checkpoint's line count on resume.
 *
 * @module
 */

/**
 * Family-wise corrections the report can apply to its comparisons with the
 * baseline: Holm–Bonferroni (the default), Bonferroni, or none.
 */
export const CORRECTIONS = ["holm", "bonferroni", "none"] as const;
/** A family-wise correction of p-values (see {@link CORRECTIONS}). */
export type Correction = typeof CORRECTIONS[number];
/** The correction a report applies when the experiment file names none. */
export const DEFAULT_CORRECTION: Correction = "holm";

/** States of a run. */
export type RunState = "pending" | "running" | "done" | "failed" | "diverged";

/** `manifest.json`. */
export interface Manifest {
  /** Experiment name (also the folder name). */
  experiment: string;
  /** The experiment file, as given on the command line. */
  file: string;
  description?: string;
  /** Axis path → values, in declaration order. */
  axes: Record<string, unknown[]>;
  seeds: number[];
  /** The primary metric, which split it is read from, and its direction. */
  primary: { metric: string; higherIsBetter: boolean };
  /** Other metrics to show, in order. */
  compare: string[];
  /** Variant key of the baseline for paired comparisons (first variant by default). */
  baseline: string;
  /** The experiment file's `report.correction`; absent: {@link DEFAULT_CORRECTION}. */
  correction?: Correction;
  /**
   * Metric name (bare, `exact_match`) → the range [low, high] its values
   * can take: the task's declared ranges, then the file's `report.ranges`.
   * Intervals of these metrics are kept inside their range.
   */
  ranges?: Record<string, [number, number]>;
  runs: ManifestRun[];
}

/** One planned run. */
export interface ManifestRun {
  id: string;
  /** Index in the plan (stable for a given experiment file). */
  index: number;
  /** Axis path → value for this run. */
  variant: Record<string, unknown>;
  /** A readable, stable key of the variant: `model.positional=learned,model.heads=4`. */
  variantKey: string;
  seed: number;
}

/** `runs/<id>/config.json`. */
export interface RunRecord {
  id: string;
  experiment: string;
  variant: Record<string, unknown>;
  variantKey: string;
  seed: number;
  /** The resolved RunConfig (see config.ts). */
  config: Record<string, unknown>;
}

/** `runs/<id>/env.json`. */
export interface EnvRecord {
  deno: string;
  v8: string;
  typescript: string;
  tfjs: string;
  backend: { name: string; tfBackend: string; reason: string; details: Record<string, string> };
  os: string;
  arch: string;
  cpus: number;
  memoryGiB: number;
  /** `git describe --always --dirty` of the project, or "unknown". */
  codeVersion: string;
  /**
   * fuselab's `FUSELAB_*` environment variables and its kernel switches not
   * at their defaults, by name (absent in records written before them).
   */
  settings?: Record<string, string>;
  /**
   * The Slurm job this run ran in, when it ran in one: job id, array job and
   * task, node, CPUs per task, and how many times the job was requeued.
   */
  slurm?: Record<string, string>;
}

/**
 * One line of `metrics.jsonl`. `split` tells which data the numbers are on.
 * Train lines carry `loss`, `lr`, `itemsPerS`; evaluation lines carry the
 * task's metrics (e.g. `exact_match`), and `loss` where the task has one.
 */
export interface MetricsLine {
  step: number;
  epoch: number;
  split: "train" | "val" | "test";
  /** Seconds of training since the run first started (resumes included). */
  time: number;
  [metric: string]: number | string;
}

/** `runs/<id>/status.json`. */
export interface StatusRecord {
  state: RunState;
  /** ISO times. */
  startedAt?: string;
  endedAt?: string;
  /** Seconds spent training, all attempts together. */
  trainSeconds?: number;
  step?: number;
  epoch?: number;
  totalSteps?: number;
  /** Final metrics (the last evaluation of each split), named `<split>/<metric>`. */
  final?: Record<string, number>;
  /** Number of parameters in the model. */
  parameters?: number;
  /** Items (tokens or examples) per second over the whole run. */
  throughput?: number;
  /** For failed runs: the error text; for diverged runs: what diverged and where. */
  error?: string;
  /** How many times the run was started (1 + resumes). */
  attempts?: number;
  /** What ended training of a done run: its epochs, `train.maxSteps` or `train.timeLimitS`. */
  stoppedBy?: "epochs" | "maxSteps" | "timeLimit";
  /** The process training a `running` run, and its host (to tell live runs from interrupted ones). */
  pid?: number;
  host?: string;
}

/**
 * Artifact names a report understands (each `artifacts/<name>.json`):
 * - `positional`: `{ kind, matrix: number[][] }` (positions × d_model) for sinusoid or learned tables.
 * - `attention`: `{ tokens: string[], layers: { layer, heads: number[][][] }[] }` for one sample input.
 * - `gates`: `{ modalities: string[], values: number[][], informative?: number[],
 *   groups?: { name: string, names: string[], of: number[] } }` (`of[i]`: row i's group)
 *   per evaluation sample: gate activation per modality, and which modality carried the signal.
 * - `length_generalization`: `{ lengths: number[], metrics: Record<string, number[]> }`, metric
 *   per evaluation length; optionally `positions: number[]` (1-based output positions),
 *   `byPosition: Record<string, number[]>` (metric per output position) and `trainLength`
 *   (the longest training output), `split` (the evaluation split they come from).
 */
export const ARTIFACTS = ["positional", "attention", "gates", "length_generalization"] as const;
