/**
 * Models assembled from the library for the tasks: the multimodal classifier.
 *
 * @module
 */
export * from "./multimodal.ts";
export * from "./transformer_options.ts";
