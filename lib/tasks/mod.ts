/**
 * Tasks: data, models and evaluation for each experiment kind, selectable by
 * name (`getTask`, `TASKS`).
 *
 * @module
 */
export type * from "./task.ts";
export * from "./registry.ts";
export * from "./seq2seq.ts";
export * from "./decoder_only.ts";
export * from "./multimodal_run.ts";
export * from "./copy.ts";
export * from "./length_generalization.ts";
export * from "./gmu_synthetic.ts";
export * from "./multimodal_sequences.ts";
export * from "./mmimdb.ts";
export * from "./translation.ts";
export * from "./features.ts";
export * from "./language_model.ts";
export * from "./lm_eval.ts";
export * from "./brown_genre.ts";
export * from "./g2p.ts";
export * from "./examples.ts";
export * from "./decoder_length.ts";
