/**
 * A vocabulary: special tokens first (`<blank>` = 0 is padding, then `<s>`,
 * `</s>`, `<unk>`), then every token seen at least `minFreq` times, most
 * frequent first (ties in code-point order), as the Annotated Transformer
 * builds its vocabularies.
 *
 * @module
 */

/** The special tokens, in id order. */
export const SPECIALS = ["<blank>", "<s>", "</s>", "<unk>"] as const;
/** Padding id. */
export const PAD = 0;
/** Start-of-sentence id. */
export const BOS = 1;
/** End-of-sentence id. */
export const EOS = 2;
/** Unknown-token id. */
export const UNK = 3;

/** Token ↔ id. */
export class Vocab {
  readonly itos: string[];
  readonly #stoi: Map<string, number>;

  /** @param tokens every token, specials first */
  constructor(tokens: string[]) {
    this.itos = tokens;
    this.#stoi = new Map(tokens.map((t, i) => [t, i]));
  }

  /** Builds a vocabulary from tokenized sentences. */
  static build(sentences: Iterable<readonly string[]>, minFreq = 1, maxSize = Infinity): Vocab {
    const freq = new Map<string, number>();
    for (const s of sentences) for (const t of s) freq.set(t, (freq.get(t) ?? 0) + 1);
    const kept = [...freq]
      .filter(([t, f]) => f >= minFreq && !(SPECIALS as readonly string[]).includes(t))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, Math.max(0, maxSize - SPECIALS.length))
      .map(([t]) => t);
    return new Vocab([...SPECIALS, ...kept]);
  }

  /** Number of tokens, specials included. */
  get size(): number {
    return this.itos.length;
  }

  /** Id of a token (`<unk>` when unknown). */
  id(token: string): number {
    return this.#stoi.get(token) ?? UNK;
  }

  /** Ids of tokens. */
  encode(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.id(t));
  }

  /** Tokens of ids, stopping at `</s>` and skipping padding and `<s>`. */
  decode(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === EOS) break;
      if (id === PAD || id === BOS) continue;
      out.push(this.itos[id] ?? SPECIALS[UNK]);
    }
    return out;
  }
}
