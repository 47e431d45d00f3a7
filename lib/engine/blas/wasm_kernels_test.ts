/**
 * The plain wasm backend's kernel fixes: where the stock kernels are wrong,
 * and the whole kernel suite against float64 references.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import { selectBackend } from "../backend.ts";
import type { WasmBackend } from "./heap.ts";
import { kernelSuite } from "./kernel_suite_test_support.ts";
import { maxAbsDiff, randomData, refMatMul } from "./reference_test_support.ts";

// The stock kernels, taken before fuselab replaces them.
const stockFused = tf.getKernel("_FusedMatMul", "wasm")!.kernelFunc;
const stockMatMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;

Deno.test("wasm backend starts with the fixed kernels", async () => {
  const info = await selectBackend("wasm");
  assert.equal(info.name, "wasm");
  assert.notEqual(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc, stockMatMul);
});

Deno.test("the stock wasm kernels are wrong where fuselab replaces them", () => {
  const be = tf.backend() as unknown as WasmBackend;
  const kb = be as unknown as tf.KernelBackend;
  // _FusedMatMul adds the bias at wrong places for batched operands.
  const a = tf.tensor([1, 2, 3, 4], [1, 2, 2]), b = tf.tensor([1, 0, 0, 1], [1, 2, 2]);
  const bias = tf.tensor([10, 20]);
  const attrs = { transposeA: false, transposeB: true, activation: "linear", leakyreluAlpha: 0.2 };
  const out = stockFused({ inputs: { a, b, bias }, backend: kb, attrs }) as tf.TensorInfo;
  const got = Array.from(be.readSync(out.dataId) as Float32Array);
  be.disposeData(out.dataId);
  assert.notDeepEqual(got, [11, 22, 13, 24], "stock _FusedMatMul is right now: drop the fix?");
  const fixed = tf.fused.matMul({ a, b, bias, transposeB: true });
  assert.deepEqual(Array.from(fixed.dataSync()), [11, 22, 13, 24]);
  // BatchMatMul with batches [2,1]·[1,3]: the stock output holds 3 products
  // where 6 are due (the rest would be read past its allocation).
  const A = randomData(2 * 3 * 4, 1), B = randomData(3 * 4 * 5, 2);
  const ta = tf.tensor(A, [2, 1, 3, 4]), tb = tf.tensor(B, [1, 3, 4, 5]);
  const o2 = stockMatMul({
    inputs: { a: ta, b: tb },
    backend: kb,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  const h = be.dataIdMap.get(o2.dataId)!;
  assert.ok(h);
  assert.deepEqual(o2.shape, [2, 3, 3, 5]);
  be.disposeData(o2.dataId);
  const y = tf.matMul(ta, tb);
  const ref = refMatMul([2, 1, 3, 4], A, [1, 3, 4, 5], B, false, false);
  assert.ok(maxAbsDiff(y.dataSync(), ref.data) < 2e-4);
  tf.dispose([a, b, bias, fixed, ta, tb, y]);
});

kernelSuite("wasm");
