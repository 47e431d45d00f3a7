import assert from "node:assert/strict";
import type { TokenStream } from "../data/lm_corpus.ts";
import { chunkOffsets, chunkWindows, evalBatches, lmMetrics } from "./lm_eval.ts";

Deno.test("lm_eval: chunks and windows", () => {
  // 3 chunks of 8 (+1) tokens in a stream of 30: offsets 0, 10, 21, the last ending at 29.
  assert.deepEqual(chunkOffsets(30, 8, 3), [0, 10, 21]);
  assert.deepEqual(chunkOffsets(8, 8, 3), []);
  assert.deepEqual(chunkWindows(8, 4), [[0, 0], [4, 0]]);
  assert.deepEqual(chunkWindows(8, 3), [[0, 0], [3, 0]]); // ⌊8/3⌋ windows: 6 tokens scored
  assert.deepEqual(chunkWindows(8, 16), []);
  // Sliding, stride 2: windows at 0, 2, 4; the first scores all 4, the others their last 2.
  assert.deepEqual(chunkWindows(8, 4, 2), [[0, 0], [2, 2], [4, 2]]);
  // A stride that does not divide: the last window ends at the chunk's end.
  assert.deepEqual(chunkWindows(9, 4, 3), [[0, 0], [3, 1], [5, 2]]);
  // Sliding windows score every token of the chunk exactly once.
  for (const [c, n, s] of [[64, 16, 5], [64, 8, 8], [50, 16, 1], [17, 4, 3]]) {
    const seen = new Array(c).fill(0);
    for (const [a, from] of chunkWindows(c, n, s)) for (let t = from; t < n; t++) seen[a + t]++;
    assert.deepEqual(seen, new Array(c).fill(1), `chunk ${c}, n ${n}, stride ${s}`);
  }
});

Deno.test("lm_eval: perplexity is exp(loss); bits per character", () => {
  const m = lmMetrics({ nll: 120, tokens: 60, chars: 90 });
  assert.equal(m.loss, 2);
  assert.ok(Math.abs(m.ppl - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(m.bpc - 120 / 90 / Math.LN2) < 1e-12);
  // BPE: the scored tokens' characters, boundaries included.
  const s: TokenStream = {
    ids: Int32Array.from([5, 6, 7, 8, 9, 5, 6, 7, 8]),
    chars: Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  };
  const { batches, chars } = evalBatches(s, [0], 8, 4);
  assert.equal(batches.length, 1);
  assert.equal(batches[0].rows, 2);
  assert.deepEqual(Array.from(batches[0].targets), [6, 7, 8, 9, 5, 6, 7, 8]);
  assert.equal(chars, 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
  const sw = evalBatches(s, [0], 8, 4, 2);
  assert.equal(sw.chars, chars); // the same tokens, scored once each
  assert.deepEqual(Array.from(sw.batches[0].weights!), [1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
});
