/**
 * The bench's parts on tiny shapes: the fuselab model trains, has the same
 * parameter count as the PyTorch model, and the PyTorch worker answers.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../lib/engine/backend.ts";
import { median, processCpuMs } from "./main.ts";
import { BENCH_SHAPE, type BenchShape, makeTrainer } from "./model.ts";
import { TorchWorker } from "./torch_worker.ts";
import * as tf from "@tensorflow/tfjs";
import { productFlops, productKey, stepProducts, timeProducts } from "./floor.ts";
import { loadOpenBlas } from "../lib/engine/blas/openblas.ts";

const TINY: BenchShape = {
  ...BENCH_SHAPE,
  dModel: 16,
  heads: 2,
  dFF: 32,
  seq: 8,
  batch: 4,
  vocab: 20,
};

Deno.test("median and processCpuMs", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const c0 = processCpuMs();
  let s = 0;
  for (let i = 0; i < 2e6; i++) s += Math.sqrt(i);
  assert.ok(s > 0 && processCpuMs() > c0);
});

Deno.test("the bench model has the issue's size and its loss falls", async () => {
  await selectBackend("blas").catch(() => selectBackend("wasm"));
  const full = makeTrainer(BENCH_SHAPE);
  // 2 layers × 789,760 + embeddings 256,000 + final norm 512 + generator 257,000.
  assert.equal(full.model.parameterCount(), 2_093_032);
  full.dispose();
  const t = makeTrainer(TINY);
  const first = t.step();
  let last = first;
  for (let i = 0; i < 15; i++) last = t.step();
  assert.ok(Math.abs(first - Math.log(TINY.vocab)) < 0.5, `initial loss ${first}`);
  assert.ok(last < first - 0.01, `loss ${first} → ${last}`);
  t.dispose();
});

Deno.test("the PyTorch worker builds the same model and times steps", async (t) => {
  const w = await TorchWorker.start();
  if (typeof w === "string") {
    t.step({ name: `skipped: ${w}`, ignore: true, fn: () => {} });
    return;
  }
  try {
    await w.setup(BENCH_SHAPE, 1);
    assert.equal(w.info.params, 2_093_032);
    await w.setup(TINY, 1);
    const r = await w.steps(2);
    assert.equal(r.ms.length, 2);
    assert.ok(r.ms.every((x) => x > 0) && r.cpuMs.length === 2);
    assert.ok((await w.maxRssMb()) > 10);
  } finally {
    await w.close();
  }
});

/** Product kinds and their calls in one training step, recorded from the matmul kernels. */
function recordProducts(shape: BenchShape): Map<string, number> {
  const seen = new Map<string, number>();
  const names = ["BatchMatMul", "_FusedMatMul"];
  const inner = names.map((n) => tf.getKernel(n, tf.getBackend())!);
  for (const k of inner) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const a = args.inputs.a as tf.TensorInfo, b = args.inputs.b as tf.TensorInfo;
        const { transposeA = false, transposeB = false } = args.attrs as Record<string, boolean>;
        const ra = a.shape.length, rb = b.shape.length;
        const m = a.shape[transposeA ? ra - 1 : ra - 2], k2 = a.shape[transposeA ? ra - 2 : ra - 1];
        const n = b.shape[transposeB ? rb - 2 : rb - 1];
        const batch = Math.max(
          a.shape.slice(0, -2).reduce((x, y) => x * y, 1),
          b.shape.slice(0, -2).reduce((x, y) => x * y, 1),
        );
        const key = productKey({ transA: transposeA, transB: transposeB, m, n, k: k2 });
        seen.set(key, (seen.get(key) ?? 0) + batch);
        return k.kernelFunc(args);
      },
    });
  }
  try {
    const t = makeTrainer(shape);
    t.step();
    t.dispose();
  } finally {
    for (const k of inner) {
      tf.unregisterKernel(k.kernelName, k.backendName);
      tf.registerKernel(k);
    }
  }
  return seen;
}

/** Why OpenBLAS cannot load here (the package to install), or "" when it loads. */
const noBlas = (() => {
  try {
    loadOpenBlas();
    return "";
  } catch (e) {
    const why = `needs OpenBLAS (apt-get install libopenblas0-pthread): ${(e as Error).message}`;
    console.warn(`bench/bench_test.ts: the floor's product list test ignored: ${why}`);
    return why;
  }
})();

Deno.test({
  name: "the floor's product list is exactly the products a step runs",
  ignore: !!noBlas,
}, async () => {
  await selectBackend("blas");
  // Odd sizes so that no two kinds coincide: every Linear and attention product is told apart.
  const shape: BenchShape = { ...TINY, dModel: 12, heads: 3, dFF: 20, seq: 7, batch: 5, vocab: 11 };
  const recorded = recordProducts(shape);
  const listed = new Map(stepProducts(shape).map((p) => [productKey(p), p.count]));
  assert.deepEqual(Object.fromEntries(listed), Object.fromEntries(recorded));
  // The bench model's 23.28 GFLOP a step.
  assert.equal(productFlops(stepProducts(BENCH_SHAPE)), 23_278_387_200);
});

Deno.test("timeProducts runs each kind of product and reports a time for all its calls", (t) => {
  let blas;
  try {
    blas = loadOpenBlas();
  } catch (e) {
    t.step({ name: `skipped: ${(e as Error).message}`, ignore: true, fn: () => {} });
    return;
  }
  const products = stepProducts(TINY);
  const timed = timeProducts(blas, products, 1);
  assert.equal(timed.length, products.length);
  for (const p of timed) assert.ok(p.ms > 0 && Number.isFinite(p.ms), productKey(p));
});
