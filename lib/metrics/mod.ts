/**
 * Metrics: accuracy, exact match, token accuracy per position, multi-label F1, corpus BLEU,
 * ROC AUC, G2P WER/PER.
 *
 * @module
 */
export * from "./classification.ts";
export * from "./f1.ts";
export * from "./bleu.ts";
export * from "./ranking.ts";
export * from "./g2p.ts";
export * from "./position.ts";
