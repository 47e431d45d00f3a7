import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { makeDecoderOnly } from "../nn/decoder_only.ts";
import { attentionInsight } from "./attention_insight.ts";

await selectBackend("wasm");

Deno.test("attentionInsight: causal heads of every layer; training mode and recording restored", async () => {
  const model = makeDecoderOnly(8, { N: 2, dModel: 16, dFF: 32, h: 2, dropout: 0.1 }, new Rng(3));
  const layers = model.layers.items.map((l) => l.selfAttn);
  const ins = await attentionInsight(model, layers, [1, 4, 5, 2], (id) => `t${id}`, (s) => {
    // the forward runs in evaluation mode, with every layer recording
    assert.equal(model.training, false);
    assert.ok(layers.every((a) => a.recordAttention));
    model.forward(s);
  });
  assert.deepEqual(ins.tokens, ["t1", "t4", "t5", "t2"]);
  assert.deepEqual(ins.layers.map((l) => l.layer), [0, 1]);
  for (const { heads } of ins.layers) {
    assert.equal(heads.length, 2);
    for (const head of heads) {
      head.forEach((row, q) => {
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${q} sums to 1`);
        // causal: query q attends to keys ≤ q only
        for (let k = q + 1; k < row.length; k++) assert.ok(row[k] < 1e-6, `q ${q} k ${k}`);
      });
    }
  }
  assert.equal(model.training, true);
  assert.ok(layers.every((a) => !a.recordAttention));
  model.dispose();
});

Deno.test("attentionInsight: a failing forward still restores training mode and recording", async () => {
  const model = makeDecoderOnly(8, { N: 1, dModel: 16, dFF: 32, h: 2, dropout: 0 }, new Rng(4));
  const layers = model.layers.items.map((l) => l.selfAttn);
  await assert.rejects(
    attentionInsight(model, layers, [1, 2], String, () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(model.training, true);
  assert.ok(layers.every((a) => !a.recordAttention));
  model.dispose();
});
