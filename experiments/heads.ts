/**
 * Head count at a fixed width: 1, 2, 4 and 8 heads with d_model = 64 (head
 * widths 64, 32, 16 and 8) on the copy task.
 *
 *   deno task exp experiments/heads.ts
 *
 * @module
 */
import { defineExperiment } from "../lib/experiment/schema.ts";

export default defineExperiment({
  name: "heads",
  description: "Attention heads 1, 2, 4, 8 at d_model = 64 on the copy task, 3 seeds.",
  task: { name: "copy", vocab: 11, length: 10, batchesPerEpoch: 20 },
  model: { layers: 2, dModel: 64, dFF: 128, dropout: 0, positional: "sinusoid" },
  train: {
    epochs: 15,
    batchSize: 64,
    lr: { schedule: "noam", factor: 0.7, warmup: 40 },
    gradClip: 1,
    logEvery: 10,
    evalEvery: 3,
    checkpointEvery: 3,
  },
  axes: { "model.heads": [1, 2, 4, 8] },
  seeds: 3,
  metrics: { primary: "exact_match", compare: ["token_accuracy", "loss"] },
  baseline: { "model.heads": 8 },
});
