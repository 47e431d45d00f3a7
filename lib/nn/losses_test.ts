/**
 * Losses against values computed by hand, label smoothing's target
 * distribution and errors.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { binaryCrossEntropy, crossEntropy } from "./losses.ts";
import { LabelSmoothing } from "./label_smoothing.ts";

Deno.test("crossEntropy = −mean log softmax(z)[y]", async () => {
  await selectBackend("wasm");
  const z = [[1, 2, 0.5], [0, -1, 3]];
  const y = [1, 2];
  const expected = -z.reduce((s, row, i) => {
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    return s + row[y[i]] - lse;
  }, 0) / 2;
  const got = crossEntropy(tf.tensor2d(z), tf.tensor1d(y, "int32")).dataSync()[0];
  assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
  const sum = crossEntropy(tf.tensor2d(z), tf.tensor1d(y, "int32"), "sum").dataSync()[0];
  assert.ok(Math.abs(sum - 2 * expected) < 1e-5);
  assert.throws(
    () => crossEntropy(tf.tensor2d(z), tf.tensor1d([1], "int32")),
    /1 labels for 2 rows/,
  );
});

Deno.test("binaryCrossEntropy (logits) = mean of −t log σ(z) − (1−t) log(1−σ(z)), stable for large |z|", async () => {
  await selectBackend("wasm");
  const z = [2, -1, 0.5, -3], t = [1, 0, 0, 1];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const expected =
    z.reduce((s, v, i) => s - t[i] * Math.log(sig(v)) - (1 - t[i]) * Math.log(1 - sig(v)), 0) / 4;
  const got = binaryCrossEntropy(tf.tensor1d(z), tf.tensor1d(t)).dataSync()[0];
  assert.ok(Math.abs(got - expected) < 1e-6);
  const big = binaryCrossEntropy(tf.tensor1d([200, -200]), tf.tensor1d([0, 1])).dataSync()[0];
  assert.ok(Math.abs(big - 200) < 1e-3, `large logits: ${big}`);
  assert.throws(() => binaryCrossEntropy(tf.zeros([2, 3]), tf.zeros([3, 2])), /differ in shape/);
});

Deno.test("LabelSmoothing: the reference's example distribution and errors", async () => {
  await selectBackend("wasm");
  const crit = new LabelSmoothing(5, 0, 0.4);
  const q = crit.trueDistribution(tf.tensor1d([2, 1, 0], "int32")).arraySync();
  const f = 0.4 / 3;
  const expect = [[0, f, 0.6, f, f], [0, 0.6, f, f, f], [0, 0, 0, 0, 0]];
  q.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - expect[i][j]) < 1e-6)));
  assert.throws(() => new LabelSmoothing(2, 0, 0.1), /more than 2/);
  assert.throws(() => new LabelSmoothing(5, 0, 1), /must be in \[0, 1\)/);
  assert.throws(
    () => crit.apply(tf.zeros([2, 5]), tf.tensor1d([1], "int32")),
    /1 targets for 2 rows/,
  );
});
