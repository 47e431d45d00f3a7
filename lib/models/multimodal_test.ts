import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { ModelConfig } from "../contract/config.ts";
import { framesMask, type MultimodalBatch, MultimodalClassifier } from "./multimodal.ts";

await selectBackend("wasm");

const model = (fusion: string) =>
  new MultimodalClassifier(
    [
      { name: "text", kind: "tokens", vocab: 10 },
      { name: "audio", kind: "frames", features: 3 },
      { name: "image", kind: "vector", dim: 5 },
    ],
    4,
    ModelConfig.parse({ layers: 1, dModel: 8, dFF: 16, heads: 2, fusion, fusionDim: 6 }),
    new Rng(0),
  );

const batch: MultimodalBatch = {
  rows: 2,
  modalities: [
    { kind: "tokens", data: Int32Array.from([4, 5, 6, 7, 0, 0]), len: 3 },
    {
      kind: "frames",
      data: Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i / 10),
      len: 2,
      features: 3,
      lengths: Int32Array.from([2, 1]),
    },
    { kind: "vector", data: Float32Array.from({ length: 10 }, (_, i) => i / 10), dim: 5 },
  ],
  labels: Int32Array.from([1, 3]),
};

Deno.test("framesMask marks the real frames of each row", () => {
  const m = framesMask(Int32Array.from([2, 0, 3]), 3);
  assert.deepEqual(Array.from(m.dataSync()), [1, 1, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(m.shape, [3, 1, 3]);
  m.dispose();
});

Deno.test("MultimodalClassifier: tokens, frames and vectors through a trimodal GMU", () => {
  const m = model("gmu").eval();
  assert.ok(m.gated);
  const names = m.namedParameters().map(([n]) => n);
  assert.ok(names.some((n) => n.startsWith("encoders.0.embed.0.lut")), "token embedding");
  assert.ok(names.some((n) => n.startsWith("encoders.2.layers.0")), "vector MLP");
  assert.ok(names.some((n) => n.startsWith("classifier.fusion.gates.2")), "n-modal gates");
  const p = m.predict(batch);
  assert.equal(p.probs.length, 8);
  assert.ok(Math.abs(p.probs[0] + p.probs[1] + p.probs[2] + p.probs[3] - 1) < 1e-5);
  assert.equal(p.gates!.length, 6);
  const before = tf.memory().numTensors;
  const loss = m.loss(batch);
  assert.ok(Number.isFinite(loss.dataSync()[0]));
  loss.dispose();
  assert.equal(tf.memory().numTensors, before);
  // Padding of the second frame sequence does not change its prediction.
  const padded = structuredClone(batch);
  const audio = padded.modalities[1] as { data: Float32Array };
  audio.data.fill(99, 9, 12);
  const q = m.predict(padded);
  for (let i = 4; i < 8; i++) assert.ok(Math.abs(q.probs[i] - p.probs[i]) < 1e-5);
  m.dispose();
});

Deno.test("MultimodalClassifier: late fusion has no gates; kinds must match", () => {
  const m = model("late");
  assert.equal(m.gated, false);
  assert.equal(m.predict(batch).gates, undefined);
  const wrong = {
    ...batch,
    modalities: [batch.modalities[2], batch.modalities[1], batch.modalities[0]],
  };
  assert.throws(() => m.predict(wrong), /modality 0 \(text\) should be tokens input, got vector/);
  m.dispose();
});
