/** Greedy decoding's shape and start symbol; beam search against greedy decoding. */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { makeModel, paddingMask } from "../nn/mod.ts";
import { greedyDecode } from "./greedy.ts";
import { beamSearch, sequenceLogProb } from "./beam.ts";

Deno.test("greedyDecode: [B, maxLen] int32 starting with the start symbol", async () => {
  await selectBackend("wasm");
  const m = makeModel(7, 7, { N: 1, dModel: 8, dFF: 8, h: 2, dropout: 0 }, new Rng(1)).eval();
  const src = tf.tensor2d([[1, 2, 3, 0], [1, 4, 0, 0]], undefined, "int32");
  const out = greedyDecode(m, src, paddingMask(src), 6, 1);
  assert.deepEqual(out.shape, [2, 6]);
  assert.equal(out.dtype, "int32");
  const rows = out.arraySync();
  assert.ok(rows.every((r) => r[0] === 1 && r.every((v) => v >= 0 && v < 7)));
  m.dispose();
});

Deno.test("beamSearch: beam 1 equals greedy; a wider beam scores at least as well; end symbol pads", async () => {
  await selectBackend("wasm");
  const m = makeModel(7, 7, { N: 1, dModel: 8, dFF: 8, h: 2, dropout: 0 }, new Rng(5)).eval();
  const src = tf.tensor2d([[1, 2, 3, 4], [1, 5, 6, 0]], undefined, "int32");
  const mask = paddingMask(src);
  const greedy = greedyDecode(m, src, mask, 6, 1);
  const one = beamSearch(m, src, mask, 6, 1, { beamSize: 1 });
  assert.deepEqual(one.ids.arraySync(), greedy.arraySync());
  const greedyScore = sequenceLogProb(m, src, mask, greedy);
  one.scores.forEach((s, i) => assert.ok(Math.abs(s - greedyScore[i]) < 1e-4));
  const wide = beamSearch(m, src, mask, 6, 1, { beamSize: 5 });
  const wideScore = sequenceLogProb(m, src, mask, wide.ids);
  wide.scores.forEach((s, i) => {
    assert.ok(Math.abs(s - wideScore[i]) < 1e-4, "reported score is the sequence's log-prob");
    assert.ok(s >= greedyScore[i] - 1e-6, `beam ${s} vs greedy ${greedyScore[i]}`);
  });
  const ended = beamSearch(m, src, mask, 6, 1, { beamSize: 3, endSymbol: 2, pad: 0 });
  for (const row of ended.ids.arraySync()) {
    const end = row.indexOf(2, 1);
    if (end > 0) assert.ok(row.slice(end + 1).every((v) => v === 0), "padded after the end");
  }
  m.dispose();
});
