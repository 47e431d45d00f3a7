import assert from "node:assert/strict";
import { accuracy, argmaxRows, sequenceAccuracy } from "./classification.ts";
import { multiLabelF1 } from "./f1.ts";
import { corpusBleu } from "./bleu.ts";
import { pearson, rocAuc } from "./ranking.ts";

const close = (a: number, b: number, eps = 1e-12) =>
  assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);
const words = (s: string) => s.split(" ");

Deno.test("accuracy and argmax", () => {
  close(accuracy([1, 2, 3, 4], [1, 0, 3, 0]), 0.5);
  assert.deepEqual([...argmaxRows([0.1, 0.7, 0.2, 0.9, 0.05, 0.05], 3)], [1, 0]);
  assert.throws(() => accuracy([1], [1, 2]), /1 predictions for 2 targets/);
});

Deno.test("sequence accuracy ignores padding; exact match needs every token", () => {
  const r = sequenceAccuracy([[1, 2, 3], [1, 5, 3], [4]], [[1, 2, 3], [1, 2, 0], [4, 4, 0]]);
  // tokens: 3 + 2 + 2 = 7; hits: 3 + 1 + 1 = 5; exact: only the first.
  assert.equal(r.tokens, 7);
  close(r.tokenAccuracy, 5 / 7);
  close(r.exactMatch, 1 / 3);
});

Deno.test("multi-label F1: micro, macro, weighted, samples by hand", () => {
  const t = [1, 0, 1, 0, 1, 0, 1, 1, 0];
  const s = [0.9, 0.2, 0.4, 0.6, 0.7, 0.1, 0.5, 0.8, 0.3]; // ≥ 0.5 → [1,0,0],[1,1,0],[1,1,0]
  const f = multiLabelF1(s, t, 3);
  // per label: F1 = 0.8 (tp2 fp1), 1 (tp2), 0 (fn1); supports 2, 2, 1
  close(f.micro, 0.8); // TP 4, FP 1, FN 1 → 8/10
  close(f.macro, 0.6);
  close(f.weighted, 0.72);
  close(f.samples, 7 / 9); // 2/3, 2/3, 1
});

Deno.test("multi-label F1: zero division counts as 0 (sklearn zero_division=0)", () => {
  const f = multiLabelF1([0, 0, 1, 0], [0, 0, 1, 0], 2);
  close(f.micro, 1);
  close(f.macro, 0.5); // label 1 has no true and no predicted positive → 0
  close(f.weighted, 1); // label 1 has support 0
  close(f.samples, 0.5); // sample 0 is empty → 0
  const none = multiLabelF1([0, 0], [0, 0], 2);
  assert.deepEqual(none, { micro: 0, macro: 0, weighted: 0, samples: 0 });
  assert.throws(() => multiLabelF1([1, 2, 3], [1, 2, 3], 2), /rows of 2 labels/);
});

Deno.test("BLEU: clipping, brevity penalty, corpus pooling", () => {
  // Papineni's clipping example: 7 × "the" against a reference with two.
  const clip = corpusBleu([words("the the the the the the the")], [[
    words("the cat is on the mat"),
  ]]);
  close(clip.precisions[0], 2 / 7);
  assert.equal(clip.bleu, 0); // no matching bigram, no smoothing
  const one = corpusBleu([words("a b c d e")], [[words("a b c d f g")]]);
  assert.deepEqual(one.precisions, [4 / 5, 3 / 4, 2 / 3, 1 / 2]);
  close(one.brevityPenalty, Math.exp(1 - 6 / 5));
  close(one.bleu, Math.exp(-0.2) * Math.pow(0.2, 0.25));
  const corpus = corpusBleu(
    [words("a b c d e"), words("x y z w")],
    [[words("a b c d f g")], [words("x y z w")]],
  );
  assert.deepEqual(corpus.precisions, [8 / 9, 6 / 7, 4 / 5, 2 / 3]);
  close(
    corpus.bleu,
    Math.exp(1 - 10 / 9) * Math.pow((8 / 9) * (6 / 7) * (4 / 5) * (2 / 3), 0.25),
  );
  // Closest reference length, ties to the shorter: refs of 4 and 6 for a 5-token candidate.
  const multi = corpusBleu([words("a b c d e")], [[words("a b c d"), words("a b c d e f")]]);
  assert.equal(multi.referenceLength, 4);
  assert.equal(multi.brevityPenalty, 1);
  close(multi.bleu, 1); // every n-gram of the candidate is in the second reference
});

Deno.test("ROC AUC with ties, Pearson", () => {
  close(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  close(rocAuc([0.2, 0.5, 0.5, 0.9], [0, 1, 0, 1]), 0.875);
  close(rocAuc([0.5, 0.5], [1, 0]), 0.5);
  assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [1, 1])));
  close(pearson([1, 2, 3], [2, 4, 7]), 15 / Math.sqrt(228));
});
