/**
 * fuselab: Transformer and multimodal-fusion ablations on TensorFlow.js.
 *
 * @module
 */
export * from "./lib/engine/mod.ts";
export * from "./lib/nn/mod.ts";
export * from "./lib/train/mod.ts";
export * from "./lib/experiment/mod.ts";
export * from "./lib/tasks/mod.ts";
export * from "./lib/fusion/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/metrics/mod.ts";
export * from "./lib/models/mod.ts";
export * from "./lib/launch/mod.ts";
export * from "./lib/report/mod.ts";
