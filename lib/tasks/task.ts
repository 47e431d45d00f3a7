/**
 * The contract between the runner and a task. A task owns its data, builds
 * its model, computes its loss and evaluates; the runner owns the loop,
 * the optimizer, logging, checkpoints and resume.
 *
 * @module
 */
import type { z } from "zod";
import type { Rng } from "../util/rng.ts";
import type { RunConfig } from "../contract/config.ts";
import type { TaskRun } from "../contract/task_run.ts";

export type { Metrics, TaskRun } from "../contract/task_run.ts";

/** A metric a task reports, and which way is better. */
export interface MetricInfo {
  name: string;
  higherIsBetter: boolean;
  description: string;
  /**
   * The values the metric can take, `[low, high]` (`[0, 1]` for accuracy-like
   * metrics, `[0, 100]` for BLEU); absent when unbounded (a loss). A report keeps
   * the metric's intervals inside it.
   */
  range?: [number, number];
}

/** The range of a proportion (accuracy, exact match, F1, AUC). */
export const UNIT: [number, number] = [0, 1];

/** A task, selectable by name from an experiment file. */
export interface Task<Options = unknown> {
  name: string;
  description: string;
  /** Validates and fills the task's own options (`config.task` minus `name`). */
  options: z.ZodType<Options>;
  /** Metrics it reports from `evaluate`. */
  metrics: MetricInfo[];
  /** The metric a report leads with, unless the experiment says otherwise. */
  primary: string;
  /**
   * Impossible combinations of this task with a config, found before
   * training (e.g. a learned table shorter than the evaluation length).
   * Each entry: `[config path, message]`.
   */
  check?(config: RunConfig, options: Options): [string, string][];
  /**
   * Checks the data files the options name, before anything trains: each
   * exists, is readable and has the right format. Each entry:
   * `[config path, message]` (the message names the file and what is wrong).
   */
  checkData?(options: Options): Promise<[string, string][]>;
  /** Builds data and model for one run. `rng` is seeded from the run's seed. */
  create(config: RunConfig, options: Options, rng: Rng): Promise<TaskRun>;
}
