import { defineExperiment } from "../schema.ts";
import { dummyTask } from "./dummy_task.ts";

export const tasks = [dummyTask];

export default defineExperiment({
  name: "dummy",
  description: "runner smoke test",
  task: { name: "dummy_linear", stepsPerEpoch: 4 },
  model: { dModel: 8, heads: 2 },
  train: { epochs: 3, lr: { schedule: "constant", value: 0.05 }, logEvery: 2 },
  axes: { "train.batchSize": [8, 16] },
  seeds: 2,
  backend: "cpu",
});
