import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { xentSimdFor } from "./softmax_xent_simd.ts";
import { selectBackend } from "../backend.ts";
import { softmaxCrossEntropy } from "./softmax_xent.ts";
import {
  checkXent as check,
  close,
  xentData as data,
  xentReference as reference,
} from "./softmax_xent_test_support.ts";

Deno.test("softmaxCrossEntropy matches a float64 reference (odd shapes, ignored rows)", async () => {
  await selectBackend("wasm");
  const f = (z: tf.Tensor, y: tf.Tensor, r: "mean" | "sum") =>
    softmaxCrossEntropy(z as tf.Tensor2D, y as tf.Tensor1D, r);
  await check(1, 1, "mean", 0, f);
  await check(3, 7, "mean", 0, f);
  await check(13, 1001, "sum", 3, f);
  await check(37, 5, "mean", 2, f);
});

Deno.test("softmaxCrossEntropy's SIMD loops (class counts a multiple of 4) match the float64 reference", async () => {
  assert.ok(xentSimdFor(new WebAssembly.Memory({ initial: 1 })), "the SIMD module validates");
  await selectBackend("wasm");
  const f = (z: tf.Tensor, y: tf.Tensor, r: "mean" | "sum") =>
    softmaxCrossEntropy(z as tf.Tensor2D, y as tf.Tensor1D, r);
  await check(1, 4, "mean", 0, f);
  await check(5, 8, "sum", 2, f);
  await check(17, 1000, "mean", 3, f);
  await check(2, 400_000, "mean", 0, f);
});

Deno.test("softmaxCrossEntropy on large rows (wasm heap growth)", async () => {
  await selectBackend("wasm");
  await check(
    3,
    400_003,
    "mean",
    0,
    (z, y, r) => softmaxCrossEntropy(z as tf.Tensor2D, y as tf.Tensor1D, r),
  );
});

Deno.test("softmaxCrossEntropy forward only (no tape) leaks nothing", async () => {
  await selectBackend("wasm");
  const { z, y } = data(4, 9, 5);
  const zt = tf.tensor2d(z, [4, 9]);
  const yt = tf.tensor1d(y, "int32");
  const before = tf.memory().numTensors;
  const loss = softmaxCrossEntropy(zt, yt);
  close([(await loss.data())[0]], [reference(z, y, 4, 9, "mean").loss], "loss");
  loss.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([zt, yt]);
});

Deno.test("softmaxCrossEntropy rejects bad shapes, dtypes and backends", async () => {
  await selectBackend("wasm");
  const z = tf.zeros([2, 3]);
  assert.throws(
    () => softmaxCrossEntropy(z as tf.Tensor2D, tf.tensor1d([0, 1, 2], "int32")),
    /\[N\]/,
  );
  assert.throws(() => softmaxCrossEntropy(z as tf.Tensor2D, tf.tensor1d([0, 1])), /int32/);
  await selectBackend("cpu");
  const zc = tf.zeros([2, 3]);
  assert.throws(
    () => softmaxCrossEntropy(zc as tf.Tensor2D, tf.tensor1d([0, 1], "int32")),
    /wasm backend/,
  );
});
