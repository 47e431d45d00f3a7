import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { makeModel, paddingMask } from "../nn/mod.ts";
import { greedyDecode } from "./greedy.ts";
import { beamSearch } from "./beam.ts";
import { batchBeamSearch } from "./beam_batch.ts";

const END = 2;
const cut = (row: number[]) => {
  const out = row.slice(1), e = out.indexOf(END);
  return e < 0 ? out : out.slice(0, e);
};

Deno.test("batchBeamSearch: width 1 is greedy; width k matches the one-example beam search", async () => {
  await selectBackend("wasm");
  const m = makeModel(9, 9, { N: 1, dModel: 16, dFF: 16, h: 2, dropout: 0 }, new Rng(11)).eval();
  const rows = [[1, 3, 4, 5, 2], [1, 6, 7, 2, 0], [1, 8, 2, 0, 0]];
  const flat = Int32Array.from(rows.flat());
  const src = tf.tensor2d(flat, [3, 5], "int32");
  const mask = paddingMask(src);
  const greedy = greedyDecode(m, src, mask, 7, 1);
  const one = await batchBeamSearch(m, flat, 3, 5, 7, 1, { beamSize: 1, endSymbol: END });
  assert.deepEqual(one, greedy.arraySync().map(cut));
  for (const k of [2, 4]) {
    const batched = await batchBeamSearch(m, flat, 3, 5, 7, 1, { beamSize: k, endSymbol: END });
    const single = beamSearch(m, src, mask, 7, 1, { beamSize: k, endSymbol: END, pad: 0 });
    assert.deepEqual(batched, single.ids.arraySync().map(cut), `beam ${k}`);
    single.ids.dispose();
  }
  assert.ok(one.length === 3);
  await assert.rejects(
    batchBeamSearch(m, flat, 3, 5, 7, 1, { beamSize: 0, endSymbol: END }),
    /beamSize 0 must be at least 1/,
  );
  tf.dispose([src, mask, greedy]);
  m.dispose();
});
