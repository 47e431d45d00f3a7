/**
 * The experiment file schema: one zod schema for TypeScript files
 * (`defineExperiment({...})`), YAML and JSON (through the JSON Schema
 * generated from it into `experiments/schema.json`).
 *
 * An experiment is a base config (task, model, train, backend) plus ablation
 * axes over config paths; planning (`plan.ts`) resolves one `RunConfig` per
 * variant and seed.
 *
 * @module
 */
import { z } from "zod";
import { BACKENDS } from "../engine/backend.ts";
import { ModelConfig, TaskConfig, TrainConfig } from "../contract/config.ts";
import { CORRECTIONS } from "../contract/results.ts";

/** Allowed experiment names: they become folder names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Names the results root keeps for its own files (`index.html` and the
 * temporary files of its atomic writes), which no experiment folder may take.
 */
export const RESERVED_NAME = /^index\.html$|\.(html?|tmp)$|\.tmp-\d+$/i;

/** What to compare, and which metric leads. */
export const MetricsSpec = z.strictObject({
  /**
   * The metric a report leads with: a metric the task reports (`exact_match`),
   * optionally with its split (`val/exact_match`); the split defaults to `test`.
   */
  primary: z.string(),
  /** Direction of the primary metric; defaults to what the task says. */
  higherIsBetter: z.boolean().optional(),
  /** Other metrics to show, in order (same form as `primary`). */
  compare: z.array(z.string()).optional(),
});

/**
 * How the report judges the comparisons. Nothing here enters a run's config,
 * so it never changes a run id; change it and rebuild the report.
 */
export const ReportSpec = z.strictObject({
  /**
   * Family-wise correction over the report's comparisons with the baseline:
   * `holm` (Holm–Bonferroni, the default), `bonferroni`, or `none`.
   */
  correction: z.enum(CORRECTIONS).optional(),
  /**
   * Metric → the range `[low, high]` its values can take, for metrics the task
   * does not declare (accuracy-like task metrics already have `[0, 1]`);
   * intervals are kept inside it.
   */
  ranges: z.record(
    z.string(),
    z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, {
      error: "expected [low, high] with low < high",
    }),
  ).optional(),
});

/** The experiment file schema. */
export const Experiment = z.strictObject({
  /** Editor hint for YAML/JSON files (`./schema.json`); ignored. */
  $schema: z.string().optional(),
  /** Experiment name; also the results folder `results/<name>/`. */
  name: z.string().regex(NAME_PATTERN, {
    error: "expected a name of letters, digits, `_`, `.` and `-`, starting with a letter or digit",
  }).refine((n) => !RESERVED_NAME.test(n), {
    error: "expected another name: the results folder keeps index.html and names ending in " +
      ".html or .tmp for its own files",
  }),
  /** One or two sentences: the question the experiment answers. */
  description: z.string().optional(),
  /** The task (`name`) and its options. */
  task: TaskConfig,
  /** Base model config; axes override parts of it. */
  model: ModelConfig.optional(),
  /** Base training config and budget (`epochs`, `maxSteps`, `timeLimitS`). */
  train: TrainConfig.optional(),
  /** Backend (`--backend` overrides it). */
  backend: z.enum(BACKENDS).optional(),
  /**
   * Ablation axes: config path → values (`"model.positional": ["sinusoid", "learned"]`).
   * Axes form a grid. A key naming several paths joined by commas
   * (`"model.dModel,model.heads"`) takes tuples: its paths vary together.
   */
  axes: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  /** Groups of axes that vary together (element-wise) instead of as a grid; equal lengths. */
  zip: z.array(z.array(z.string()).min(2)).optional(),
  /** Combinations to leave out: each entry is `{ "<axis path>": value, ... }`, all matching. */
  exclude: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Seeds: a list, or a count `n` meaning seeds 0 … n−1. */
  seeds: z.union([z.int().min(1), z.array(z.int()).min(1)]).optional(),
  /** The metrics to compare; defaults to the task's primary metric. */
  metrics: MetricsSpec.optional(),
  /**
   * The baseline variant for paired comparisons: a variant key
   * (`model.positional=sinusoid`) or `{ "<axis path>": value }`; defaults to the first variant.
   */
  baseline: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** How the report judges comparisons: family-wise correction, metric ranges. */
  report: ReportSpec.optional(),
  /** Results root (default `results`, relative to the working directory); `--results` overrides. */
  resultsDir: z.string().optional(),
});

/** An experiment as written in a file (defaults not yet filled in). */
export type ExperimentInput = z.input<typeof Experiment>;
/** A validated experiment. */
export type Experiment = z.output<typeof Experiment>;

/**
 * Declares an experiment in a TypeScript file, with completion and checking
 * from the types:
 *
 * ```ts
 * import { defineExperiment } from "../lib/experiment/mod.ts";
 * export default defineExperiment({
 *   name: "positional",
 *   task: { name: "copy" },
 *   axes: { "model.positional": ["sinusoid", "learned"] },
 *   seeds: 2,
 * });
 * ```
 */
export function defineExperiment(experiment: ExperimentInput): ExperimentInput {
  return experiment;
}
