/**
 * Multimodal fusion: the Gated Multimodal Unit and the GMU paper's baselines.
 *
 * @module
 */
export * from "./fusion.ts";
export * from "./gmu.ts";
export * from "./baselines.ts";
export * from "./classifier.ts";
