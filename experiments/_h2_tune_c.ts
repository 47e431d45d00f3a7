/**
 * Quick start: the Annotated Transformer's copy task (vocabulary 11,
 * sequences of 10 with the start symbol), a small encoder-decoder, and one
 * question: does a learned positional table copy as well as the sinusoid?
 *
 *   deno task exp experiments/quickstart.ts
 *
 * @module
 */
import { defineExperiment } from "../lib/experiment/schema.ts";

export default defineExperiment({
  name: "qs_tune_c",
  description:
    "Copy task: sinusoidal vs learned positional encoding, small encoder-decoder, 2 seeds.",
  task: { name: "copy", vocab: 11, length: 10, batchesPerEpoch: 20, valSize: 100 },
  model: { layers: 1, dModel: 64, dFF: 128, heads: 4, dropout: 0, maxLen: 16 },
  train: {
    epochs: 10,
    batchSize: 64,
    lr: { schedule: "noam", factor: 1, warmup: 40 },
    gradClip: 1,
    logEvery: 5,
    evalEvery: 5,
    checkpointEvery: 2,
  },
  axes: { "model.positional": ["sinusoid", "learned"] },
  seeds: 2,
  metrics: { primary: "exact_match", compare: ["token_accuracy", "loss"] },
});
