import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { multimodalSequencesTask as task, sequenceSamples } from "./multimodal_sequences.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";

await selectBackend("wasm");

/** Order of the events in a sample's text: true = A (1) before B (2), null = absent. */
function textOrder(seq: Int32Array): boolean | null {
  const a = seq.indexOf(1), b = seq.indexOf(2);
  return a < 0 || b < 0 ? null : a < b;
}

Deno.test("multimodal_sequences: the label is the order of the events in the switched modality", () => {
  const o = task.options.parse({ modalities: 3 });
  const split = sequenceSamples(o, 200, new Rng(5), new Rng(6));
  const text = split.columns[0] as { kind: "tokens"; seqs: Int32Array[] };
  let checked = 0;
  for (let i = 0; i < 200; i++) {
    const order = textOrder(text.seqs[i]);
    if (split.informative![i] === 0) {
      assert.equal(order, split.labels[i] === 1);
      checked++;
    } else assert.equal(order, null);
    const [lo, hi] = o.textLength;
    assert.ok(text.seqs[i].length >= lo && text.seqs[i].length <= hi);
  }
  assert.ok(checked > 40);
  // Batches pad each modality to its own longest row and keep the frame lengths.
  const b = split.gather([0, 1, 2, 3]);
  assert.equal(b.modalities[0].kind, "tokens");
  const audio = b.modalities[1];
  assert.equal(audio.kind, "frames");
  if (audio.kind === "frames") {
    assert.equal(audio.len, Math.max(...audio.lengths));
    assert.equal(audio.data.length, 4 * audio.len * o.features);
  }
  // Deterministic per seed.
  assert.deepEqual(sequenceSamples(o, 20, new Rng(5), new Rng(6)).slice(0, 20), split.slice(0, 20));
});

Deno.test("multimodal_sequences: xor and all modes put the label where they say", () => {
  const xor = sequenceSamples(task.options.parse({ mode: "xor" }), 100, new Rng(1), new Rng(2));
  const all = sequenceSamples(task.options.parse({ mode: "all" }), 100, new Rng(1), new Rng(2));
  const tx = xor.columns[0] as { kind: "tokens"; seqs: Int32Array[] };
  const ta = all.columns[0] as { kind: "tokens"; seqs: Int32Array[] };
  let agree = 0;
  for (let i = 0; i < 100; i++) {
    assert.equal(textOrder(ta.seqs[i]), all.labels[i] === 1);
    assert.notEqual(textOrder(tx.seqs[i]), null);
    if (textOrder(tx.seqs[i]) === (xor.labels[i] === 1)) agree++;
  }
  // In xor mode the text alone says nothing about the label (about half agree).
  assert.ok(agree > 30 && agree < 70, `agree ${agree}`);
  assert.equal(all.informative, undefined);
});

Deno.test("multimodal_sequences: trains a fused model end to end; checks lengths", async () => {
  const config = testConfig({
    task: { name: "multimodal_sequences", trainSize: 128, valSize: 64, testSize: 64 },
    model: { layers: 1, dModel: 16, dFF: 32, heads: 2, fusionDim: 8, dropout: 0 },
    train: { batchSize: 32, lr: { schedule: "constant", value: 0.003 } },
  });
  const { run } = await createRun(task, config);
  const losses = await trainEpochs(run, config, 3);
  assert.ok(losses.every(Number.isFinite));
  const m = await run.evaluate("test");
  for (const k of ["loss", "accuracy", "f1_macro", "gate_auc", "gate_accuracy"]) {
    assert.ok(k in m, k);
  }
  const ins = await run.insights!();
  assert.ok(ins.gates && ins.positional);
  run.model.dispose();
  const bad = testConfig({ ...config, model: { positional: "learned", maxLen: 12 } });
  const errs = task.check!(bad, task.options.parse({ textLength: [8, 4] }));
  assert.deepEqual(errs.map((e) => e[0]), ["task.textLength", "model.maxLen"]);
});
