/**
 * Optimizers, schedules, losses, decoding.
 *
 * @module
 */
export * from "./adam.ts";
export * from "./noam.ts";
export * from "./losses.ts";
export * from "./label_smoothing.ts";
export * from "./greedy.ts";
export * from "./greedy_causal.ts";
export * from "./checkpoint.ts";
export * from "./loop.ts";
export * from "./beam.ts";
