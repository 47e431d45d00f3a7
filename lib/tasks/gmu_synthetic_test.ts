import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { gmuSamples, gmuSyntheticTask as task, gmuWorld } from "./gmu_synthetic.ts";
import { gateAgreement } from "./multimodal_run.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { MultimodalBatch } from "../models/multimodal.ts";

await selectBackend("wasm");

const config = (modalities: number, fusion = "gmu") =>
  testConfig({
    task: { name: "gmu_synthetic", modalities, trainSize: 1000, valSize: 300, testSize: 300 },
    model: { fusion, fusionDim: 16, dropout: 0 },
    train: { batchSize: 64, lr: { schedule: "constant", value: 0.003 } },
    seed: 0,
  });

Deno.test("gmu_synthetic: the data is deterministic per seed and the switch is uniform", () => {
  const o = task.options.parse({ modalities: 3 });
  const a = gmuSamples(o, gmuWorld(o, new Rng(1)), 300, new Rng(2));
  const b = gmuSamples(o, gmuWorld(o, new Rng(1)), 300, new Rng(2));
  const c = gmuSamples(o, gmuWorld(o, new Rng(1)), 300, new Rng(3));
  assert.deepEqual(a.slice(0, 300), b.slice(0, 300));
  assert.notDeepEqual(a.slice(0, 10).modalities[0], c.slice(0, 10).modalities[0]);
  const counts = [0, 0, 0];
  for (const s of a.informative!) counts[s]++;
  for (const n of counts) assert.ok(n > 70 && n < 130, `switch counts ${counts}`);
});

Deno.test("gate agreement: AUC and accuracy by hand", () => {
  // 4 samples, 2 modalities; gate values (z, 1 − z).
  const g = Float32Array.from([0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.55, 0.45]);
  const r = gateAgreement(g, 2, Int32Array.from([0, 0, 1, 1]));
  // share of modality 0: 0.9, 0.6 (informative) vs 0.3, 0.55 → all 4 pairs ordered → 1;
  // modality 1 is the mirror → 1. Argmax: 0, 0, 1, 0 → 3 of 4 right.
  assert.equal(r.gate_auc, 1);
  assert.equal(r.gate_accuracy, 0.75);
});

for (const modalities of [2, 3]) {
  Deno.test(`gmu_synthetic: a trained ${modalities}-modal GMU's gate follows the switch`, async () => {
    const cfg = config(modalities);
    const { run } = await createRun(task, cfg);
    const before = await run.evaluate("val");
    await trainEpochs(run, cfg, 6);
    const after = await run.evaluate("val");
    assert.ok(after.accuracy > 0.9, `accuracy ${after.accuracy}`);
    assert.ok(after.gate_auc > 0.9, `gate_auc ${after.gate_auc} (before ${before.gate_auc})`);
    assert.ok(after.gate_auc > before.gate_auc);
    const ins = await run.insights!();
    const gates = ins.gates as { modalities: string[]; values: number[][]; informative: number[] };
    assert.equal(gates.modalities.length, modalities);
    assert.equal(gates.values.length, 300);
    assert.equal(gates.values[0].length, modalities);
    assert.equal(gates.informative.length, 300);
    run.model.dispose();
  });
}

Deno.test("gmu_synthetic: ungated fusions report no gate metrics", async () => {
  const cfg = config(2, "concat");
  const { run } = await createRun(task, cfg);
  const [b] = [...run.batches(0)] as MultimodalBatch[];
  assert.equal(b.rows, 64);
  const m = await run.evaluate("test");
  assert.ok("accuracy" in m && !("gate_auc" in m));
  assert.deepEqual(Object.keys(await run.insights!()), []);
  run.model.dispose();
});
