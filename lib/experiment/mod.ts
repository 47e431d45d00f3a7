/**
 * Experiments: configs, the results format, planning and running.
 *
 * @module
 */
export * from "./config.ts";
export * from "./results.ts";
