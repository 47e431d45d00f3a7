/**
 * What a task gives the training loop for one run: the model, the batches of
 * each epoch as plain data, the loss of a batch and an evaluation. The loop
 * (`lib/train/loop.ts`) reads only this; a task (`lib/tasks/task.ts`) builds
 * it from a run's config.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module.ts";

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
   * (the runner wraps it in `valueAndGrads`, which tidies).
   */
  loss(batch: Batch): tf.Scalar;
  /** Number of items (tokens or examples) in a batch, for throughput. */
  batchSize(batch: Batch): number;
  /** Evaluates on a split; the model is put in eval mode by the runner. */
  evaluate(split: "val" | "test"): Promise<Metrics>;
  /**
   * Optional model insight saved as `artifacts/<key>.json` at the end of
   * training (gate activations, attention maps, positional-encoding tables,
   * metric per evaluation length...). See `./results.ts`.
   */
  insights?(): Promise<Record<string, unknown>>;
  /** Frees data tensors the task holds (the runner disposes the model). */
  dispose?(): void;
}
