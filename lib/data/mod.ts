/**
 * Data loading: NumPy `.npy`, HDF5, JSONL features, parallel text corpora, the Brown Corpus, CMUdict,
 * tokenizers (word, BPE), vocabularies and batching, with errors that name
 * the file, the field and the fix.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./files.ts";
export * from "./npy.ts";
export * from "./hdf5.ts";
export * from "./jsonl.ts";
export * from "./text.ts";
export * from "./brown.ts";
export * from "./lm_corpus.ts";
export * from "./brown_views.ts";
export * from "./tokenizer.ts";
export * from "./bpe.ts";
export * from "./vocab.ts";
export * from "./batching.ts";
export * from "./cmudict.ts";
