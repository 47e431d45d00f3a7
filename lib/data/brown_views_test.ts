import assert from "node:assert/strict";
import type { BrownText, TaggedToken } from "./brown.ts";
import {
  brownPassages,
  columnStats,
  simplifyTag,
  standardize,
  STYLE_FEATURES,
  styleVector,
  tagCounts,
  tagFeatures,
  tagNgrams,
  topKeys,
  wordCounts,
  wordFeatures,
} from "./brown_views.ts";

/** "w/t w/t …" → a sentence. */
function sent(s: string): TaggedToken[] {
  return s.split(" ").map((p) => {
    const i = p.lastIndexOf("/");
    return { word: p.slice(0, i), tag: p.slice(i + 1) };
  });
}

function text(id: string, lengths: number[]): BrownText {
  return {
    id,
    genre: "news",
    sentences: lengths.map((n) =>
      Array.from({ length: n }, (_, i) => ({ word: `w${i}`, tag: "nn" }))
    ),
  };
}

Deno.test("brownPassages: whole sentences until the length, short remainder kept or dropped", () => {
  // 4+4 = 8 ≥ 8 → passage 0; 3+6 = 9 → passage 1; remainder 4 (≥ 8/2) → passage 2
  const ps = brownPassages(text("ca01", [4, 4, 3, 6, 4]), 8);
  assert.deepEqual(ps.map((p) => p.sentences.map((s) => s.length)), [[4, 4], [3, 6], [4]]);
  assert.deepEqual(ps.map((p) => p.index), [0, 1, 2]);
  assert.ok(ps.every((p) => p.textId === "ca01" && p.genre === "news"));
  // remainder 3 < 8/2 is dropped
  const qs = brownPassages(text("ca02", [8, 3]), 8);
  assert.deepEqual(qs.map((p) => p.sentences.length), [1]);
  // deterministic: the same text gives the same passages
  assert.deepEqual(brownPassages(text("ca01", [4, 4, 3, 6, 4]), 8), ps);
  assert.throws(() => brownPassages(text("ca01", [3]), 0), /positive integer, got 0/);
});

Deno.test("simplifyTag: title, headline, cited and foreign marks go; contractions keep the host", () => {
  const cases: [string, string][] = [
    ["nn-tl", "nn"],
    ["NP-TL", "np"],
    ["vbd-hl", "vbd"],
    ["nn-nc", "nn"],
    ["fw-nn", "nn"],
    ["fw-in-tl", "in"],
    ["nn-tl-hl", "nn"],
    ["np$-tl", "np$"],
    ["bez*", "bez*"],
    ["ppss+md", "ppss"],
    ["--", "--"],
    ["at", "at"],
    [",-hl", ","],
  ];
  for (const [raw, want] of cases) assert.equal(simplifyTag(raw), want, raw);
});

const passage = {
  textId: "ca01",
  genre: "news",
  index: 0,
  sentences: [
    sent("The/at Jury/nn-tl said/vbd ,/, ``/`` it/pps is/bez 12/cd well-known/jj ''/'' ./."),
    sent("It/pps was/bedz n't/* ?/."),
  ],
};

Deno.test("words view: relative frequency of vocabulary words, lower-cased", () => {
  const vocab = ["it", "the", "jury", "absent"];
  const x = wordFeatures([passage], vocab);
  const n = 15; // tokens in the passage (11 + 4)
  assert.deepEqual(Array.from(x), [2 / n, 1 / n, 1 / n, 0].map(Math.fround));
  const counts = wordCounts([passage]);
  assert.equal(counts.get("it"), 2);
  assert.deepEqual(topKeys(counts, 2), ["it", "''"]); // ties broken by key
});

Deno.test("tags view: simplified unigrams and in-sentence bigrams", () => {
  const g = tagNgrams(passage);
  assert.deepEqual(g.unigrams.slice(0, 3), ["at", "nn", "vbd"]);
  assert.deepEqual(g.bigrams.slice(0, 2), ["<s> at", "at nn"]);
  assert.equal(g.bigrams[11], "<s> pps"); // the second sentence starts afresh
  assert.equal(tagCounts([passage]).get("pps"), 2);
  const x = tagFeatures([passage], ["pps", "<s> pps", "nn-tl", "."]);
  // 15 unigrams, 15 bigrams; nn-tl never occurs (simplified to nn); "." twice
  assert.deepEqual(Array.from(x), [2 / 15, 1 / 15, 0, 2 / 15].map(Math.fround));
});

Deno.test("style view: lengths, richness, capitals, digits, punctuation by hand", () => {
  const v = styleVector(passage);
  assert.equal(v.length, STYLE_FEATURES.length);
  const f = (name: string) => v[STYLE_FEATURES.indexOf(name)];
  assert.equal(f("sentence_length_mean"), 7.5); // (11 + 4) / 2
  assert.equal(f("sentence_length_std"), 3.5);
  assert.equal(f("short_sentences"), 0.5);
  assert.equal(f("long_sentences"), 0);
  // alphabetic words: The Jury said it is well-known It was n't → 9 words
  // letters: 3 4 4 2 2 9 2 3 2 = 31
  assert.ok(Math.abs(f("word_length_mean") - 31 / 9) < 1e-12);
  assert.equal(f("word_length_2"), 4 / 9);
  assert.equal(f("word_length_9"), 1 / 9);
  assert.equal(f("type_token_ratio"), 8 / 9); // "it" twice
  assert.equal(f("capitalized"), 1 / 9); // Jury (The and It start their sentences)
  assert.equal(f("digits"), 1 / 15);
  assert.equal(f("hyphenated"), 1 / 9);
  assert.equal(f("punct ,"), 1 / 15);
  assert.equal(f("punct ."), 1 / 15);
  assert.equal(f("punct ?"), 1 / 15);
  assert.equal(f("punct ``"), 1 / 15);
  assert.equal(f("punct ;"), 0);
});

Deno.test("standardize: train statistics, zero-variance columns, clipping", () => {
  const train = Float32Array.from([1, 5, 3, 5]); // 2 rows × 2 columns
  const s = columnStats(train, 2);
  assert.deepEqual(Array.from(s.mean), [2, 5]);
  assert.deepEqual(Array.from(s.std), [1, 0]);
  assert.deepEqual(Array.from(standardize(Float32Array.from([4, 9, -20, 5]), 2, s)), [2, 0, -5, 0]);
});
