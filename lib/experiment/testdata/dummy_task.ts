/**
 * A tiny task for the runner's tests: linear regression y = W x + b with a
 * fixed true W, trained on seeded random batches. Input noise drawn from a
 * public `Rng` on the model stands in for dropout, so that exact resume
 * depends on checkpointed generator states.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { Rng } from "../../util/rng.ts";
import { Module } from "../../nn/module.ts";
import type { RunConfig } from "../../contract/config.ts";
import type { Task, TaskRun } from "../../tasks/task.ts";

const Options = z.strictObject({
  dim: z.int().min(1).default(4),
  stepsPerEpoch: z.int().min(1).default(4),
  batch: z.int().min(1).default(8),
  /** Sleep this many milliseconds per step (to give a test time to kill the process). */
  sleepMs: z.number().min(0).default(0),
  /** Make the loss NaN from this step on (1-based), to test divergence. */
  nanAtStep: z.int().optional(),
  /** Throw in `create` (to test failed runs). */
  fail: z.boolean().default(false),
  /** The longest evaluation length (for the learned-table check). */
  evalLength: z.int().min(1).default(8),
});
type Options = z.infer<typeof Options>;

interface Batch {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

class Regressor extends Module {
  weight: tf.Variable;
  bias: tf.Variable;
  /** Noise generator (public, so that checkpoints save it). */
  noise: Rng;

  constructor(dim: number, rng: Rng) {
    super();
    const init = Array.from({ length: dim }, () => rng.normal() * 0.1);
    this.weight = this.param("weight", tf.tensor2d(init, [1, dim]));
    this.bias = this.param("bias", tf.zeros([1]));
    this.noise = rng.fork();
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    const n = x.shape[0] * x.shape[1];
    const noisy = this.training
      ? tf.add(x, tf.tensor(Array.from({ length: n }, () => this.noise.normal() * 0.01), x.shape))
      : x;
    return tf.add(tf.matMul(noisy, this.weight, false, true), this.bias) as tf.Tensor2D;
  }
}

function sleep(ms: number) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The test task `dummy_linear`. */
export const dummyTask: Task<Options> = {
  name: "dummy_linear",
  description: "linear regression on random data (tests only)",
  options: Options,
  metrics: [
    { name: "mse", higherIsBetter: false, description: "mean squared error" },
    { name: "within", higherIsBetter: true, description: "share of |error| < 0.1" },
  ],
  primary: "mse",
  check(config: RunConfig, options: Options): [string, string][] {
    if (config.model.positional === "learned" && config.model.maxLen < options.evalLength) {
      return [[
        "model.maxLen",
        `expected at least the evaluation length ${options.evalLength} for a learned table`,
      ]];
    }
    return [];
  },
  create(config: RunConfig, o: Options, rng: Rng): Promise<TaskRun> {
    if (o.fail) throw new Error("dummy task asked to fail");
    const trueW = Array.from({ length: o.dim }, (_, i) => (i % 2 ? 1 : -1) * (i + 1) / o.dim);
    const makeBatch = (r: Rng): Batch => {
      const x = new Float32Array(o.batch * o.dim), y = new Float32Array(o.batch);
      for (let b = 0; b < o.batch; b++) {
        let s = 0.5;
        for (let i = 0; i < o.dim; i++) {
          const v = r.uniform(-1, 1);
          x[b * o.dim + i] = v;
          s += v * trueW[i];
        }
        y[b] = s;
      }
      return { x, y, n: o.batch };
    };
    const model = new Regressor(o.dim, rng);
    const evalRng = new Rng(12345);
    const evalBatch = makeBatch(evalRng);
    let steps = 0;
    const lossOf = (b: Batch) =>
      tf.tidy(() => {
        const pred = model.forward(tf.tensor2d(b.x, [b.n, o.dim]));
        return tf.mean(tf.square(tf.sub(pred, tf.tensor2d(b.y, [b.n, 1])))) as tf.Scalar;
      });
    return Promise.resolve({
      model,
      stepsPerEpoch: o.stepsPerEpoch,
      *batches(epoch: number) {
        const r = new Rng(config.seed * 7919 + epoch);
        for (let i = 0; i < o.stepsPerEpoch; i++) yield makeBatch(r);
      },
      loss(batch: unknown) {
        steps++;
        sleep(o.sleepMs);
        const l = lossOf(batch as Batch);
        return o.nanAtStep !== undefined && steps >= o.nanAtStep ? tf.div(l, 0).mul(0) : l;
      },
      batchSize: (batch: unknown) => (batch as Batch).n,
      async evaluate(_split: "val" | "test") {
        const mse = lossOf(evalBatch);
        const v = (await mse.data())[0];
        mse.dispose();
        return { mse: Number(v.toPrecision(6)), within: v < 0.01 ? 1 : 0 };
      },
      async insights() {
        return { weights: { w: Array.from(await model.weight.data()) } };
      },
    });
  },
};
