/**
 * Word-level tokenization: runs of letters/digits, and each other non-space
 * character on its own (so "don't." → don ' t .). Optionally lower-cased.
 *
 * @module
 */

/** Splits text into word and punctuation tokens. */
export function wordTokenize(text: string, lowercase = true): string[] {
  const t = lowercase ? text.toLowerCase() : text;
  return t.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

/** A tokenizer turns text into tokens and tokens back into words. */
export interface Tokenizer {
  kind: string;
  /** Text → tokens (words or subwords). */
  encode(text: string): string[];
  /** Tokens → words (undoes subword splits). */
  toWords(tokens: readonly string[]): string[];
}

/** The word-level {@link Tokenizer}. */
export class WordTokenizer implements Tokenizer {
  readonly kind = "word";
  /** @param lowercase lower-case before splitting */
  constructor(readonly lowercase = true) {}
  /** Text → word tokens. */
  encode(text: string): string[] {
    return wordTokenize(text, this.lowercase);
  }
  /** Words are already words. */
  toWords(tokens: readonly string[]): string[] {
    return [...tokens];
  }
}
