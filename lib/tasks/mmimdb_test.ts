import assert from "node:assert/strict";
import h5wasm from "h5wasm/node";
import { selectBackend } from "../engine/backend.ts";
import { DataError } from "../data/errors.ts";
import { mmimdbTask as task } from "./mmimdb.ts";
import { writeMmimdbExample } from "./examples.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { MultimodalBatch } from "../models/multimodal.ts";

await selectBackend("wasm");
const dir = await Deno.makeTempDir();
const path = `${dir}/multimodal_imdb.hdf5`;
await writeMmimdbExample(path, { rows: 240, textDim: 12, imageDim: 20, classes: 5, seed: 1 });
const splits = { train: [0, 160], val: [160, 200], test: [200, 240] };

const config = (extra: Record<string, unknown> = {}) =>
  testConfig({
    task: { name: "mmimdb", path, splits, ...extra },
    model: { fusion: "gmu", fusionDim: 16, dropout: 0 },
    train: { batchSize: 16, lr: { schedule: "constant", value: 0.003 } },
  });

Deno.test("mmimdb: reads the published layout, streams batches, reports the four F1s", async () => {
  const cfg = config();
  const { run } = await createRun(task, cfg);
  assert.equal(run.stepsPerEpoch, 10);
  const batches = [...run.batches(0)] as MultimodalBatch[];
  assert.equal(batches.length, 10);
  assert.equal(batches.reduce((s, b) => s + b.rows, 0), 160);
  const b = batches[0];
  assert.equal(b.modalities[0].kind === "vector" && b.modalities[0].dim, 12);
  assert.equal(b.modalities[1].kind === "vector" && b.modalities[1].dim, 20);
  assert.equal(b.labels.length, 16 * 5);
  // The same epoch gives the same batches; another epoch another order.
  assert.deepEqual(([...run.batches(0)][0] as MultimodalBatch).labels, b.labels);
  const before = await run.evaluate("test");
  await trainEpochs(run, cfg, 15);
  const after = await run.evaluate("test");
  for (const k of ["f1_micro", "f1_macro", "f1_weighted", "f1_samples", "loss"]) {
    assert.ok(k in after, k);
  }
  assert.ok(after.f1_micro > before.f1_micro, `${before.f1_micro} → ${after.f1_micro}`);
  assert.ok(after.f1_micro > 0.6, `f1_micro ${after.f1_micro}`);
  const ins = await run.insights!();
  assert.deepEqual((ins.gates as { modalities: string[] }).modalities, ["text", "poster"]);
  run.dispose?.();
  run.model.dispose();
});

type Sets = Record<string, { data: Float32Array | Int8Array; shape: number[] }>;

/** A small valid layout (40 rows), edited by `edit`, written to `<name>.hdf5`. */
async function badFile(name: string, edit: (sets: Sets) => void): Promise<string> {
  const p = `${dir}/${name}.hdf5`;
  const sets: Sets = {
    features: { data: new Float32Array(40 * 4).fill(0.5), shape: [40, 4] },
    vgg_features: { data: new Float32Array(40 * 6).fill(1), shape: [40, 6] },
    genres: { data: new Int8Array(40 * 3).fill(1), shape: [40, 3] },
  };
  edit(sets);
  await h5wasm.ready;
  const f = new h5wasm.File(p, "w");
  for (const [k, v] of Object.entries(sets)) f.create_dataset({ name: k, ...v });
  f.close();
  return p;
}

Deno.test("mmimdb: bad files fail early with the file, the field and what is wrong", async () => {
  const s = { train: [0, 20], val: [20, 30], test: [30, 40] };
  const attempt = (p: string, extra: Record<string, unknown> = {}) =>
    createRun(task, testConfig({ task: { name: "mmimdb", path: p, splits: s, ...extra } }));
  await assert.rejects(attempt(`${dir}/missing.hdf5`), /missing\.hdf5: file: does not exist/);
  const noGenres = await badFile("nogenres", (d) => delete d.genres);
  await assert.rejects(attempt(noGenres), (e: DataError) => {
    assert.ok(e instanceof DataError);
    assert.match(
      e.message,
      /nogenres\.hdf5: genres: no such dataset \(the file has: features, vgg_features\)/,
    );
    return true;
  });
  const short = await badFile("short", (d) => {
    d.vgg_features = { data: new Float32Array(30 * 6), shape: [30, 6] };
  });
  await assert.rejects(
    attempt(short),
    /short\.hdf5: vgg_features: has 30 rows but features has 40/,
  );
  const nan = await badFile("nan", (d) => {
    d.features.data[33 * 4 + 2] = NaN;
  });
  await assert.rejects(
    attempt(nan),
    /nan\.hdf5: features: value NaN at row 33, column 2 is not finite/,
  );
  const labels = await badFile("labels", (d) => {
    d.genres.data[5 * 3 + 1] = 2;
  });
  await assert.rejects(
    attempt(labels),
    /labels\.hdf5: genres: value 2 at row 5, label 1 is not 0 or 1/,
  );
  await assert.rejects(
    attempt(await badFile("good", () => {}), { splits: { ...s, test: [30, 50] } }),
    /split test: rows \[30, 50\) are not a non-empty range inside the file's 40 rows/,
  );
});
