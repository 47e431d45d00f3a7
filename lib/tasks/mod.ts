/**
 * Tasks: data, models and evaluation for each experiment kind.
 *
 * @module
 */
export type * from "./task.ts";
