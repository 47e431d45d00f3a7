/**
 * Optimizers, schedules, losses, decoding.
 *
 * @module
 */
export * from "./adam.ts";
export * from "./noam.ts";
