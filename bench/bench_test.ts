/**
 * The bench's parts on tiny shapes: the fuselab model trains, has the same
 * parameter count as the PyTorch model, and the PyTorch worker answers.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../lib/engine/backend.ts";
import { median, processCpuMs } from "./main.ts";
import { BENCH_SHAPE, type BenchShape, makeTrainer } from "./model.ts";
import { TorchWorker } from "./torch_worker.ts";

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
