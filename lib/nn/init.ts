/**
 * Parameter initialisers computed in JavaScript from a seeded {@link Rng}, so
 * the initial weights are the same on every backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";

/** A tensor of `shape` with entries uniform in [lo, hi). */
export function uniformTensor(shape: number[], lo: number, hi: number, rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(lo, hi);
  return tf.tensor(data, shape, "float32");
}

/** A tensor of `shape` with standard-normal entries scaled by `std`. */
export function normalTensor(shape: number[], std: number, rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape, "float32");
}

/**
 * Xavier/Glorot uniform (Glorot & Bengio, 2010) as PyTorch computes it:
 * bound = √(6 / (fan_in + fan_out)), with fan_in = shape[1]·receptive,
 * fan_out = shape[0]·receptive.
 */
export function xavierUniform(shape: number[], rng: Rng): tf.Tensor {
  if (shape.length < 2) throw new Error(`xavierUniform needs ≥ 2 dims, got [${shape}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  const fanIn = shape[1] * receptive, fanOut = shape[0] * receptive;
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  return uniformTensor(shape, -bound, bound, rng);
}
