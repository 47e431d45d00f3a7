/**
 * Byte-pair encoding as in Sennrich et al. (2016): words start as characters
 * with an end-of-word marker, and the most frequent adjacent pair over the
 * training words is merged, again and again, for a fixed number of merges.
 * Ties between equally frequent pairs go to the lexicographically first pair,
 * so learning is deterministic. Encoding applies the learned merges in the
 * order they were learned.
 *
 * @module
 */
import { type Tokenizer, wordTokenize } from "./tokenizer.ts";

/** End-of-word marker appended to a word's last symbol. */
export const EOW = "</w>";

/** Learns `merges` BPE merges from training texts (word-tokenized first). */
export function learnBpe(
  texts: Iterable<string>,
  merges: number,
  lowercase = true,
): [string, string][] {
  const freq = new Map<string, number>();
  for (const t of texts) {
    for (const w of wordTokenize(t, lowercase)) freq.set(w, (freq.get(w) ?? 0) + 1);
  }
  const words = [...freq].map(([w, f]) => ({ syms: splitWord(w), f }));
  const out: [string, string][] = [];
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<string, number>();
    for (const { syms, f } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] + "\u0000" + syms[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + f);
      }
    }
    let best = "", bestF = 0;
    for (const [k, f] of pairs) if (f > bestF || (f === bestF && k < best)) [best, bestF] = [k, f];
    if (bestF < 2) break; // merging a pair seen once gains nothing
    const [a, b] = best.split("\u0000") as [string, string];
    out.push([a, b]);
    for (const w of words) w.syms = mergePair(w.syms, a, b);
  }
  return out;
}

function splitWord(w: string): string[] {
  const chars = [...w];
  chars[chars.length - 1] += EOW;
  return chars;
}

function mergePair(syms: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < syms.length; i++) {
    if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
      out.push(a + b);
      i++;
    } else out.push(syms[i]);
  }
  return out;
}

/** A subword {@link Tokenizer} from learned BPE merges. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = "bpe";
  #rank = new Map<string, number>();
  #cache = new Map<string, string[]>();

  /** @param merges merges from {@link learnBpe}, in order */
  constructor(readonly merges: [string, string][], readonly lowercase = true) {
    merges.forEach(([a, b], i) => this.#rank.set(a + "\u0000" + b, i));
  }

  /** Text → subword tokens (the last subword of each word ends with `</w>`). */
  encode(text: string): string[] {
    return wordTokenize(text, this.lowercase).flatMap((w) => this.encodeWord(w));
  }

  /** One word → its subwords: repeatedly merges the adjacent pair learned earliest. */
  encodeWord(word: string): string[] {
    const hit = this.#cache.get(word);
    if (hit) return hit;
    let syms = splitWord(word);
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.#rank.get(syms[i] + "\u0000" + syms[i + 1]);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      syms = mergePair(syms, syms[best], syms[best + 1]);
    }
    this.#cache.set(word, syms);
    return syms;
  }

  /** Subwords → words (joins until a symbol ending with `</w>`). */
  toWords(tokens: readonly string[]): string[] {
    const out: string[] = [];
    let cur = "";
    for (const t of tokens) {
      if (t.endsWith(EOW)) {
        out.push(cur + t.slice(0, -EOW.length));
        cur = "";
      } else cur += t;
    }
    if (cur) out.push(cur);
    return out;
  }
}
