/**
 * Passages of Brown Corpus texts and three views of each passage, as feature
 * vectors, for multimodal genre classification (task `brown_genre`):
 *
 * - **passage**: consecutive whole sentences of one text, taken greedily until
 *   they hold at least `tokens` tokens; a text's last, shorter remainder is kept
 *   when it holds at least `tokens`/2 tokens, else dropped. A passage belongs to
 *   its text, so it lands in its text's split ({@link splitBrown}).
 * - **words** view: relative frequency of each of the `V` most frequent training
 *   words (lower-cased tokens, punctuation included), x_w = count(w) / |passage|.
 * - **tags** view: relative frequency of the `K` most frequent training tag
 *   n-grams over {@link simplifyTag}ged tags: unigrams `t`, and bigrams `t u`
 *   inside a sentence (with `<s>` before its first tag), each count divided by
 *   the passage's number of unigrams (resp. bigrams).
 * - **style** view: {@link STYLE_FEATURES}: sentence-length and word-length
 *   statistics, vocabulary richness, capitals, digits and punctuation rates —
 *   how the text is written, not which words or tags it uses.
 *
 * Columns are then standardised with the training passages' mean and standard
 * deviation, z = (x − mean) / std (0 where std = 0), clipped to [−5, 5]
 * ({@link standardize}).
 *
 * @module
 */
import type { BrownText, TaggedToken } from "./brown.ts";

/** A run of consecutive whole sentences of one text. */
export interface BrownPassage {
  /** The text it comes from (e.g. `ca01`). */
  textId: string;
  /** The text's genre. */
  genre: string;
  /** Index of the passage in its text, from 0. */
  index: number;
  /** Its sentences, in order. */
  sentences: TaggedToken[][];
}

/**
 * Cuts a text into passages of at least `tokens` tokens of whole sentences
 * (the remainder kept when it has at least `tokens`/2). Deterministic.
 */
export function brownPassages(text: BrownText, tokens: number): BrownPassage[] {
  if (!(Number.isInteger(tokens) && tokens >= 1)) {
    throw new RangeError(`passage length must be a positive integer, got ${tokens}`);
  }
  const out: BrownPassage[] = [];
  let cur: TaggedToken[][] = [], n = 0;
  const emit = () => {
    out.push({ textId: text.id, genre: text.genre, index: out.length, sentences: cur });
    cur = [];
    n = 0;
  };
  for (const s of text.sentences) {
    cur.push(s);
    n += s.length;
    if (n >= tokens) emit();
  }
  if (cur.length && n * 2 >= tokens) emit();
  return out;
}

/**
 * A Brown tag simplified: lower-cased; the first part of a contraction's tag
 * `a+b` (`ppss+md` → `ppss`); the foreign-word prefix `fw-` and the suffixes
 * `-tl` (in a title), `-hl` (in a headline) and `-nc` (cited word) removed,
 * repeatedly (`fw-nn-tl` → `nn`). Negation `*` and possessive `$` stay
 * (`bez*`, `np$`). A tag that would become empty (`fw-`) is kept as it was.
 */
export function simplifyTag(tag: string): string {
  let t = tag.toLowerCase();
  const plus = t.indexOf("+");
  if (plus > 0) t = t.slice(0, plus);
  for (let changed = true; changed;) {
    changed = false;
    if (t.startsWith("fw-") && t.length > 3) [t, changed] = [t.slice(3), true];
    const m = /^(.+?)-(tl|hl|nc)$/.exec(t);
    if (m) [t, changed] = [m[1], true];
  }
  return t || tag.toLowerCase();
}

/** The `k` most frequent keys of a count map; ties by key, so the result is deterministic. */
export function topKeys(counts: Map<string, number>, k: number): string[] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, k).map(([key]) => key);
}

function tokensOf(p: BrownPassage): TaggedToken[] {
  return p.sentences.flat();
}

/** Counts of lower-cased words over passages. */
export function wordCounts(passages: readonly BrownPassage[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const p of passages) {
    for (const t of tokensOf(p)) {
      const w = t.word.toLowerCase();
      c.set(w, (c.get(w) ?? 0) + 1);
    }
  }
  return c;
}

/** The tag unigrams and in-sentence bigrams of a passage (`<s>` opens each sentence). */
export function tagNgrams(p: BrownPassage): { unigrams: string[]; bigrams: string[] } {
  const unigrams: string[] = [], bigrams: string[] = [];
  for (const s of p.sentences) {
    let prev = "<s>";
    for (const t of s) {
      const tag = simplifyTag(t.tag);
      unigrams.push(tag);
      bigrams.push(`${prev} ${tag}`);
      prev = tag;
    }
  }
  return { unigrams, bigrams };
}

/** Counts of tag n-grams over passages (unigrams as `t`, bigrams as `t u`). */
export function tagCounts(passages: readonly BrownPassage[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const p of passages) {
    const g = tagNgrams(p);
    for (const x of [...g.unigrams, ...g.bigrams]) c.set(x, (c.get(x) ?? 0) + 1);
  }
  return c;
}

/** The words view of passages: [N, vocab.length], x_w = count(w) / tokens. */
export function wordFeatures(
  passages: readonly BrownPassage[],
  vocab: readonly string[],
): Float32Array {
  const index = new Map(vocab.map((w, i) => [w, i]));
  const D = vocab.length, out = new Float32Array(passages.length * D);
  passages.forEach((p, r) => {
    const toks = tokensOf(p);
    for (const t of toks) {
      const j = index.get(t.word.toLowerCase());
      if (j !== undefined) out[r * D + j] += 1 / toks.length;
    }
  });
  return out;
}

/**
 * The tags view of passages: [N, ngrams.length]; a unigram's count divided by
 * the passage's unigrams, a bigram's by its bigrams.
 */
export function tagFeatures(
  passages: readonly BrownPassage[],
  ngrams: readonly string[],
): Float32Array {
  const index = new Map(ngrams.map((g, i) => [g, i]));
  const D = ngrams.length, out = new Float32Array(passages.length * D);
  passages.forEach((p, r) => {
    const g = tagNgrams(p);
    for (const list of [g.unigrams, g.bigrams]) {
      for (const x of list) {
        const j = index.get(x);
        if (j !== undefined) out[r * D + j] += 1 / list.length;
      }
    }
  });
  return out;
}

/** Punctuation tokens whose rate per token is a style feature (Brown writes quotes `` and ''). */
export const STYLE_PUNCTUATION = [",", ".", ";", ":", "?", "!", "``", "''", "(", "--"] as const;

/** Names of the style view's columns, in order. */
export const STYLE_FEATURES: readonly string[] = [
  "sentence_length_mean",
  "sentence_length_std",
  "short_sentences", // fraction of sentences of ≤ 8 tokens
  "long_sentences", // fraction of sentences of ≥ 30 tokens
  "word_length_mean", // letters per alphabetic word
  "word_length_std",
  ...Array.from({ length: 12 }, (_, i) => i < 11 ? `word_length_${i + 1}` : "word_length_12+"),
  "type_token_ratio", // distinct lower-cased alphabetic words / alphabetic words
  "capitalized", // alphabetic words starting upper-case, not first in their sentence, per word
  "digits", // tokens holding a digit, per token
  "hyphenated", // alphabetic words with an inner hyphen, per word
  ...STYLE_PUNCTUATION.map((p) => `punct ${p}`), // this token, per token
];

const ALPHA = /^[A-Za-z][A-Za-z'-]*$/;

/** The style view of one passage (see {@link STYLE_FEATURES}). */
export function styleVector(p: BrownPassage): number[] {
  const lens = p.sentences.map((s) => s.length);
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
  const std = (xs: number[]) => {
    const m = mean(xs);
    return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
  };
  const toks = tokensOf(p);
  const alpha: string[] = [];
  let capitalized = 0, digits = 0, hyphenated = 0;
  for (const s of p.sentences) {
    s.forEach((t, i) => {
      if (/\d/.test(t.word)) digits++;
      if (!ALPHA.test(t.word)) return;
      alpha.push(t.word);
      if (i > 0 && /^[A-Z]/.test(t.word)) capitalized++;
      if (/\w-\w/.test(t.word)) hyphenated++;
    });
  }
  const letters = alpha.map((w) => w.replace(/[^A-Za-z]/g, "").length);
  const hist = new Array(12).fill(0);
  for (const l of letters) hist[Math.min(12, Math.max(1, l)) - 1]++;
  const nA = Math.max(1, alpha.length), nT = Math.max(1, toks.length);
  const punct = STYLE_PUNCTUATION.map((q) => toks.filter((t) => t.word === q).length / nT);
  return [
    mean(lens),
    std(lens),
    lens.filter((l) => l <= 8).length / Math.max(1, lens.length),
    lens.filter((l) => l >= 30).length / Math.max(1, lens.length),
    mean(letters),
    std(letters),
    ...hist.map((h) => h / nA),
    new Set(alpha.map((w) => w.toLowerCase())).size / nA,
    capitalized / nA,
    digits / nT,
    hyphenated / nA,
    ...punct,
  ];
}

/** The style view of passages: [N, STYLE_FEATURES.length]. */
export function styleFeatures(passages: readonly BrownPassage[]): Float32Array {
  const D = STYLE_FEATURES.length, out = new Float32Array(passages.length * D);
  passages.forEach((p, r) => out.set(styleVector(p), r * D));
  return out;
}

/** Column means and standard deviations of a row-major [N, dim] matrix. */
export interface ColumnStats {
  mean: Float64Array;
  std: Float64Array;
}

/** Mean and (population) standard deviation of each column. */
export function columnStats(data: Float32Array, dim: number): ColumnStats {
  const n = data.length / dim;
  const mean = new Float64Array(dim), sq = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) mean[j] += data[r * dim + j] / n;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dim; j++) sq[j] += (data[r * dim + j] - mean[j]) ** 2 / n;
  }
  return { mean, std: sq.map(Math.sqrt) };
}

/** z = (x − mean) / std per column (0 where std is 0), clipped to [−5, 5]; a new array. */
export function standardize(data: Float32Array, dim: number, s: ColumnStats): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const j = i % dim, sd = s.std[j];
    out[i] = sd > 1e-12 ? Math.max(-5, Math.min(5, (data[i] - s.mean[j]) / sd)) : 0;
  }
  return out;
}
