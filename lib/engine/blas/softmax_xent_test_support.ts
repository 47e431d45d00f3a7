/**
 * Checks of softmax cross-entropy against a float64 reference, shared by the
 * blas and webgpu tests: the reference loss and gradient, random logits with
 * ignored rows, and a value-and-gradient comparison.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../util/rng.ts";

/** The float64 reference: loss and d loss / d logits, out-of-range labels ignored. */
export function xentReference(
  z: Float32Array,
  y: Int32Array,
  n: number,
  c: number,
  reduction: "mean" | "sum",
): { loss: number; grad: Float64Array } {
  const s = reduction === "mean" ? 1 / n : 1;
  const grad = new Float64Array(n * c);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const t = y[r];
    if (t < 0 || t >= c) continue;
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, z[r * c + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(z[r * c + j] - m);
    loss += m + Math.log(sum) - z[r * c + t];
    for (let j = 0; j < c; j++) grad[r * c + j] = s * Math.exp(z[r * c + j] - m) / sum;
    grad[r * c + t] -= s;
  }
  return { loss: loss * s, grad };
}

/** Asserts `got` ≈ `want` element-wise (1e-5 relative to the element or 1% of the largest). */
export function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(
      err <= 1e-5 * Math.max(Math.abs(want[i]), scale * 1e-2, 1e-30),
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

/** Logits in [−4, 4) and labels for [n, c]; with `ignoreEvery`, some labels out of range (ignored). */
export function xentData(n: number, c: number, seed: number, ignoreEvery = 0) {
  const rng = new Rng(seed);
  const z = new Float32Array(n * c);
  for (let i = 0; i < z.length; i++) z[i] = (rng.next() - 0.5) * 8;
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = Math.floor(rng.next() * c);
    if (ignoreEvery && r % ignoreEvery === 1) y[r] = r % 2 ? -1 : c; // padding / out of range
  }
  return { z, y };
}

/**
 * Loss and gradient of `fn` on [n, c] random logits against the reference,
 * and no tensor left behind.
 */
export async function checkXent(
  n: number,
  c: number,
  reduction: "mean" | "sum",
  ignoreEvery: number,
  fn: (z: tf.Tensor, y: tf.Tensor, red: "mean" | "sum") => tf.Scalar,
): Promise<void> {
  const { z, y } = xentData(n, c, n * 31 + c, ignoreEvery);
  const want = xentReference(z, y, n, c, reduction);
  const zt = tf.tensor2d(z, [n, c]);
  const yt = tf.tensor1d(y, "int32");
  const before = tf.memory().numTensors;
  const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => fn(x, yt, reduction))([zt]);
  const loss = (await value.data())[0];
  const grad = await grads[0].data();
  tf.dispose([value, ...grads]);
  assert.equal(tf.memory().numTensors, before, `tensor leak for [${n}, ${c}]`);
  close([loss], [want.loss], `loss [${n},${c}] ${reduction}`);
  close(grad, want.grad, `grad [${n},${c}] ${reduction}`);
  tf.dispose([zt, yt]);
}
