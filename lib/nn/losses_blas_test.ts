import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { installBlasKernels, uninstallBlasKernels } from "../engine/blas/mod.ts";
import { loadOpenBlas } from "../engine/blas/openblas.ts";
import {
  close,
  xentData as data,
  xentReference as reference,
} from "../engine/blas/softmax_xent_test_support.ts";
import { crossEntropy } from "./losses.ts";

/** Why OpenBLAS cannot load here (the package to install), or "" when it loads. */
const noBlas = (() => {
  try {
    loadOpenBlas();
    return "";
  } catch (e) {
    const why = `needs OpenBLAS (apt-get install libopenblas0-pthread): ${(e as Error).message}`;
    console.warn(`losses_blas_test.ts: the fused-path test ignored: ${why}`);
    return why;
  }
})();

Deno.test({
  name: "crossEntropy takes the fused path with blas installed and agrees with the slow path",
  ignore: !!noBlas,
}, async () => {
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
  const install = await installBlasKernels();
  assert.ok(install.ok, "OpenBLAS loaded above, so its kernels install");
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
