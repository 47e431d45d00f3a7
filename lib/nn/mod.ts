/**
 * Transformer layers after the Annotated Transformer, and per-modality encoders.
 *
 * @module
 */
export * from "./module.ts";
export * from "./module_list.ts";
export * from "./init.ts";
export * from "./dropout.ts";
export * from "./linear.ts";
export * from "./embeddings.ts";
export * from "./layer_norm.ts";
export * from "./masks.ts";
export * from "./attention.ts";
export * from "./positional.ts";
export * from "./feed_forward.ts";
export * from "./sublayer.ts";
export * from "./encoder.ts";
export * from "./decoder.ts";
export * from "./generator.ts";
export * from "./encoder_decoder.ts";
export * from "./decoder_only.ts";
export * from "./mlp.ts";
export * from "./seq_encoder.ts";
export * from "./matmul.ts";
