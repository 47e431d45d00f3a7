import assert from "node:assert/strict";
import { g2pErrorRates, sequenceEditDistance } from "./g2p.ts";

const p = (s: string) => (s ? s.split(" ") : []);

Deno.test("sequence edit distance by hand", () => {
  assert.equal(sequenceEditDistance(p("K AE T"), p("K AE T")), 0);
  assert.equal(sequenceEditDistance(p("K AE T"), p("K AH T")), 1); // substitution
  assert.equal(sequenceEditDistance(p("K AE T"), p("K AE T S")), 1); // insertion
  assert.equal(sequenceEditDistance(p("K AE T S"), p("K AE T")), 1); // deletion
  assert.equal(sequenceEditDistance(p(""), p("K AE T")), 3);
  assert.equal(sequenceEditDistance(p("K AE T"), p("")), 3);
  // kitten → sitting over letters: the textbook 3.
  assert.equal(sequenceEditDistance([..."kitten"], [..."sitting"]), 3);
  // "T AH M EY T OW" → "T AH M AA T OW": one substitution; reversed order: 4.
  assert.equal(sequenceEditDistance(p("T AH M EY T OW"), p("T AH M AA T OW")), 1);
  assert.equal(sequenceEditDistance(p("A B C D"), p("D C B A")), 4);
});

Deno.test("WER and PER by hand, one reference per word", () => {
  const r = g2pErrorRates(
    [p("K AE T"), p("D AA G Z"), p("B ER D")],
    [[p("K AE T")], [p("D AO G")], [p("B ER D")]],
  );
  // word 2: substitution AA/AO + insertion Z = 2 edits; references 3 + 3 + 3 = 9 phonemes.
  assert.equal(r.words, 3);
  assert.equal(r.wrongWords, 1);
  assert.equal(r.edits, 2);
  assert.equal(r.refPhones, 9);
  assert.equal(r.wer, 1 / 3);
  assert.equal(r.per, 2 / 9);
});

Deno.test("WER and PER with alternative pronunciations: nearest reference counts", () => {
  const r = g2pErrorRates(
    [p("T AH M AA T OW"), p("T AH M EY T"), p("IY TH ER")],
    [
      [p("T AH M EY T OW"), p("T AH M AA T OW")], // matches the second: correct
      [p("T AH M EY T OW"), p("T AH M AA T OW")], // one deletion from the first (length 6)
      [p("IY DH ER"), p("AY DH ER")], // one substitution from the first (length 3)
    ],
  );
  assert.equal(r.wrongWords, 2);
  assert.equal(r.wer, 2 / 3);
  assert.equal(r.edits, 2);
  assert.equal(r.refPhones, 6 + 6 + 3);
  assert.equal(r.per, 2 / 15);
  // Ties keep the first nearest reference (its length is the denominator):
  // "A B" is one edit from "A" (length 1) and from "A B C" (length 3).
  assert.equal(g2pErrorRates([p("A B")], [[p("A"), p("A B C")]]).per, 1 / 1);
  assert.equal(g2pErrorRates([p("A B")], [[p("A B C"), p("A")]]).per, 1 / 3);
  // The nearest reference wins even when it comes second.
  assert.equal(g2pErrorRates([p("A")], [[p("B C"), p("C")]]).per, 1 / 1);
});

Deno.test("WER and PER: empty output, no words, mismatched lengths", () => {
  const r = g2pErrorRates([[]], [[p("K AE T")]]);
  assert.equal(r.wer, 1);
  assert.equal(r.per, 1);
  assert.deepEqual(g2pErrorRates([], []), {
    wer: 0,
    per: 0,
    words: 0,
    wrongWords: 0,
    edits: 0,
    refPhones: 0,
  });
  assert.throws(() => g2pErrorRates([[]], []), /1 outputs for 0 words/);
  assert.throws(() => g2pErrorRates([[]], [[]]), /word 0 has no reference/);
});
