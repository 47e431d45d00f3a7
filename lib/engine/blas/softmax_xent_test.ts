import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { xentSimdFor } from "./softmax_xent_simd.ts";
import { selectBackend } from "../backend.ts";
import { installBlasKernels, uninstallBlasKernels } from "./mod.ts";
import { softmaxCrossEntropy } from "./softmax_xent.ts";
import { crossEntropy } from "../../nn/losses.ts";
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

Deno.test("crossEntropy takes the fused path with blas installed and agrees with the slow path", async () => {
  await selectBackend("wasm");
  const n = 24, c = 101;
  const { z, y } = data(n, c, 9, 4);
  const zt = tf.tensor3d(z, [2, 12, c]);
  const yt = tf.tensor2d(y, [2, 12], "int32");
  const run = async (red: "mean" | "sum") => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, yt, red))([zt]);
    const out = { loss: (await value.data())[0], grad: await grads[0].data() };
    tf.dispose([value, ...grads]);
    return out;
  };
  const slow = await run("mean");
  const slowSum = await run("sum");
  const install = await installBlasKernels().catch(() => undefined);
  if (!install) return; // no OpenBLAS here: the fused path is not reachable
  try {
    const prof = await tf.profile(() => crossEntropy(zt, yt));
    assert.ok(!prof.kernelNames.includes("Exp"), `fused path not taken: ${prof.kernelNames}`);
    tf.dispose(prof.result as tf.Tensor);
    const spy = tf.engine().state.numTensors;
    const fast = await run("mean");
    const fastSum = await run("sum");
    assert.equal(tf.engine().state.numTensors, spy, "tensor leak");
    const want = reference(z, y, n, c, "mean");
    close([fast.loss], [want.loss], "fast loss");
    close(fast.grad, want.grad, "fast grad");
    close([fastSum.loss], [slowSum.loss], "fast sum loss vs slow");
    close([slow.loss], [want.loss], "slow loss");
    // Same semantics as the slow path, element by element.
    close(fast.grad, slow.grad, "fast grad vs slow grad");
  } finally {
    uninstallBlasKernels();
    tf.dispose([zt, yt]);
  }
});
