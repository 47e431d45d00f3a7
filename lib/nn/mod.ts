/**
 * Transformer layers after the Annotated Transformer.
 *
 * @module
 */
export * from "./module.ts";
