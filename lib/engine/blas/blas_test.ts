/**
 * The blas backend: installing (and failing to), and every replaced kernel
 * against float64 references (matmuls with every transpose, batch
 * broadcasting, fused bias and activations, gradients; Identity, Tile, Sum,
 * UnsortedSegmentSum; outputs that grow the wasm heap).
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../backend.ts";
import { installBlasKernels, loadOpenBlas, uninstallBlasKernels } from "./mod.ts";
import { kernelSuite } from "./kernel_suite_test_support.ts";

Deno.test("installBlasKernels reports why when OpenBLAS cannot load", async () => {
  const prev = Deno.env.get("FUSELAB_OPENBLAS");
  try {
    Deno.env.set("FUSELAB_OPENBLAS", "/nonexistent/libopenblas.so.0");
    const r = await installBlasKernels();
    assert.equal(r.ok, false);
    assert.match(r.why, /nonexistent\/libopenblas/);
    Deno.env.set("FUSELAB_OPENBLAS", "none");
    assert.match((await installBlasKernels()).why, /turned off/);
  } finally {
    if (prev === undefined) Deno.env.delete("FUSELAB_OPENBLAS");
    else Deno.env.set("FUSELAB_OPENBLAS", prev);
  }
});

// Without OpenBLAS (`apt-get install libopenblas0-pthread`) the blas tests are ignored.
let missing = "";
try {
  loadOpenBlas();
} catch (e) {
  missing = (e as Error).message;
  console.warn(`blas tests ignored: ${missing}`);
}

Deno.test({ name: "blas backend loads", ignore: !!missing }, async () => {
  const info = await selectBackend("blas");
  assert.equal(info.name, "blas");
  assert.match(info.details.openblas, /OpenBLAS/);
});
kernelSuite("blas", !!missing);

Deno.test(
  { name: "uninstallBlasKernels puts the wasm kernels back", ignore: !!missing },
  async () => {
    uninstallBlasKernels();
    const x = tf.tensor([1, 2]);
    const y = tf.clone(x);
    // The stock Identity copies: a new data id.
    assert.notEqual(y.dataId, x.dataId);
    tf.dispose([x, y]);
    const r = await installBlasKernels();
    assert.ok(r.ok);
    const z = tf.clone(tf.tensor([3]));
    assert.deepEqual(Array.from(z.dataSync()), [3]);
  },
);
