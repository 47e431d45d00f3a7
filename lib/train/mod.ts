/**
 * Optimizers, schedules, decoding, the training loop and checkpoints (losses are in
 * `lib/nn/`).
 *
 * @module
 */
export * from "./adam.ts";
export * from "./grads.ts";
export * from "./noam.ts";
export * from "./greedy.ts";
export * from "./greedy_causal.ts";
export * from "./checkpoint.ts";
export * from "./loop.ts";
export * from "./beam.ts";
export * from "./beam_batch.ts";
