/**
 * A minimal training loop for tasks' own tests and measurements: Adam with
 * the config's schedule, no logging, no checkpoints (the real loop is the
 * runner's, `lib/experiment`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { RunConfig } from "../contract/config.ts";
import { Adam } from "../train/adam.ts";
import { valueAndGrads } from "../train/grads.ts";
import { noamRate } from "../train/noam.ts";
import type { Task, TaskRun } from "./task.ts";

/** Resolves a config from partial input (defaults filled in), as the runner does. */
export function testConfig(input: Record<string, unknown>): RunConfig {
  return RunConfig.parse(input);
}

/** Builds a task run from a config: options parsed, `check` applied, then `create`. */
export async function createRun<O>(
  task: Task<O>,
  config: RunConfig,
): Promise<{ run: TaskRun; options: O }> {
  const { name: _name, ...rest } = config.task;
  const options = task.options.parse(rest);
  const errs = task.check?.(config, options) ?? [];
  if (errs.length) throw new Error(errs.map(([p, m]) => `${p}: ${m}`).join("\n"));
  const run = await task.create(config, options, new Rng(config.seed));
  return { run, options };
}

/**
 * Trains `epochs` epochs; returns the mean training loss of each epoch. Reads
 * the loss asynchronously, as the runner does (any backend, WebGPU included).
 */
export async function trainEpochs(
  run: TaskRun,
  config: RunConfig,
  epochs: number,
): Promise<number[]> {
  const params = run.model.trainableParameters();
  const opt = new Adam(params, {
    beta1: config.train.beta1,
    beta2: config.train.beta2,
    epsilon: config.train.epsilon,
  });
  const lr = config.train.lr;
  const means: number[] = [];
  run.model.train();
  for (let e = 0; e < epochs; e++) {
    let sum = 0, n = 0;
    for (const b of run.batches(e)) {
      const rate = lr.schedule === "noam"
        ? noamRate(opt.step + 1, config.model.dModel, lr.factor, lr.warmup)
        : lr.value;
      const { value, grads } = valueAndGrads(params, () => run.loss(b));
      opt.apply(grads, rate);
      sum += (await value.data())[0];
      n++;
      value.dispose();
      tf.dispose(grads);
    }
    means.push(sum / n);
  }
  run.model.eval();
  opt.dispose();
  return means;
}
