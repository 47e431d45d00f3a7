/**
 * The contract between the runner and a task. A task owns its data, builds
 * its model, computes its loss and evaluates; the runner owns the loop,
 * the optimizer, logging, checkpoints and resume.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { z } from "zod";
import type { Rng } from "../util/rng.ts";
import type { Module } from "../nn/module.ts";
import type { RunConfig } from "../contract/config.ts";

/** A metric a task reports, and which way is better. */
export interface MetricInfo {
  name: string;
  higherIsBetter: boolean;
  description: string;
}

/** Metrics of one evaluation: name → value. */
export type Metrics = Record<string, number>;

/** One task instance, built for one run. */
export interface TaskRun<Batch = unknown> {
  /** The model trained by the runner. */
  model: Module;
  /** Batches in one epoch. */
  stepsPerEpoch: number;
  /**
   * The training batches of `epoch` (0-based), deterministic for the run's
   * seed and the epoch, as plain data (typed arrays), not tensors: the runner
   * may stop and resume at any epoch boundary.
   */
  batches(epoch: number): Iterable<Batch>;
  /**
   * The scalar loss on a batch, built from tensors made inside this call
   * (the runner wraps it in `tf.variableGrads`, which tidies).
   */
  loss(batch: Batch): tf.Scalar;
  /** Number of items (tokens or examples) in a batch, for throughput. */
  batchSize(batch: Batch): number;
  /** Evaluates on a split; the model is put in eval mode by the runner. */
  evaluate(split: "val" | "test"): Promise<Metrics>;
  /**
   * Optional model insight saved as `artifacts/<key>.json` at the end of
   * training (gate activations, attention maps, positional-encoding tables,
   * metric per evaluation length...). See `lib/contract/results.ts`.
   */
  insights?(): Promise<Record<string, unknown>>;
  /** Frees data tensors the task holds (the runner disposes the model). */
  dispose?(): void;
}

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
  /** Builds data and model for one run. `rng` is seeded from the run's seed. */
  create(config: RunConfig, options: Options, rng: Rng): Promise<TaskRun>;
}
