import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { encodeNpy } from "../data/npy.ts";
import { featuresTask as task } from "./features.ts";
import { writeFeaturesExample } from "./examples.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { MultimodalBatch } from "../models/multimodal.ts";

await selectBackend("wasm");
const dir = await Deno.makeTempDir();
await writeFeaturesExample(dir, { train: 150, val: 60, test: 60 }, 2);
const split = (s: string) => ({
  labels: `${dir}/${s}_labels.txt`,
  audio: `${dir}/${s}_audio.npy`,
  text: `${dir}/${s}_text.jsonl`,
});
const taskCfg = (extra: Record<string, unknown> = {}) => ({
  name: "features",
  modalities: ["audio", "text"],
  splits: { train: split("train"), val: split("val"), test: split("test") },
  ...extra,
});
const config = (extra: Record<string, unknown> = {}) =>
  testConfig({
    task: taskCfg(extra),
    model: { fusion: "concat", fusionDim: 16, dropout: 0 },
    train: { batchSize: 30, lr: { schedule: "constant", value: 0.01 } },
  });

Deno.test("features: .npy and .jsonl modalities with a labels file train and evaluate", async () => {
  const cfg = config();
  const { run } = await createRun(task, cfg);
  const [b] = [...run.batches(0)] as MultimodalBatch[];
  assert.deepEqual(b.modalities.map((m) => m.kind === "vector" && m.dim), [6, 5]);
  assert.ok(b.labels instanceof Int32Array);
  await trainEpochs(run, cfg, 10);
  const m = await run.evaluate("test");
  assert.ok(m.accuracy > 0.8, `accuracy ${m.accuracy}`);
  run.model.dispose();
});

Deno.test("features: multi-label labels and frame sequences", async () => {
  const d = `${dir}/ml`;
  await Deno.mkdir(d);
  // 4 examples; frames as .npy [N, T, F] and variable-length JSONL frames.
  await Deno.writeFile(
    `${d}/a.npy`,
    encodeNpy(Array.from({ length: 4 * 3 * 2 }, (_, i) => i / 10), [4, 3, 2]),
  );
  await Deno.writeTextFile(
    `${d}/b.jsonl`,
    ["[[1,2]]", "[[1,2],[3,4]]", '{"features": [[0,1]]}', "[[5,5],[6,6],[7,7]]"].join("\n"),
  );
  await Deno.writeTextFile(`${d}/y.txt`, "1 0 1\n0 1 0\n1,1,0\n0 0 1\n");
  const files = { labels: `${d}/y.txt`, a: `${d}/a.npy`, b: `${d}/b.jsonl` };
  const cfg = testConfig({
    task: {
      name: "features",
      modalities: ["a", "b"],
      multiLabel: true,
      splits: { train: files, val: files },
    },
    model: { layers: 1, dModel: 8, dFF: 16, heads: 2, fusionDim: 8, dropout: 0 },
    train: { batchSize: 4 },
  });
  const { run } = await createRun(task, cfg);
  const [b] = [...run.batches(0)] as MultimodalBatch[];
  assert.equal(b.modalities[1].kind, "frames");
  if (b.modalities[1].kind === "frames") assert.equal(b.modalities[1].len, 3);
  assert.equal(b.labels.length, 12);
  const m = await run.evaluate("val");
  assert.ok("f1_micro" in m && "f1_samples" in m);
  run.model.dispose();
});

Deno.test("features: bad files fail early with the file, the field and what is wrong", async () => {
  const bad = `${dir}/bad`;
  await Deno.mkdir(bad);
  const attempt = (splits: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    createRun(task, config({ splits, ...extra }));
  // Missing split: reported by check() with the config path.
  await assert.rejects(attempt({ train: split("train") }), /task\.splits\.val: is missing/);
  await assert.rejects(
    attempt({
      train: split("train"),
      val: { labels: split("val").labels, audio: split("val").audio },
    }),
    /task\.splits\.val\.text: is missing/,
  );
  // Row counts differ between modalities.
  await Deno.writeFile(`${bad}/audio.npy`, encodeNpy(new Float32Array(59 * 6), [59, 6]));
  await assert.rejects(
    attempt({ train: split("train"), val: { ...split("val"), audio: `${bad}/audio.npy` } }),
    /val_text\.jsonl: text: has 60 examples but .*bad\/audio\.npy has 59/,
  );
  // Width differs from the training split.
  await Deno.writeFile(`${bad}/wide.npy`, encodeNpy(new Float32Array(60 * 7), [60, 7]));
  await assert.rejects(
    attempt({ train: split("train"), val: { ...split("val"), audio: `${bad}/wide.npy` } }),
    /wide\.npy: audio: has vector of width 7, but the train split has vector of width 6/,
  );
  // NaN features.
  const nan = new Float32Array(60 * 6);
  nan[13 * 6 + 4] = NaN;
  await Deno.writeFile(`${bad}/nan.npy`, encodeNpy(nan, [60, 6]));
  await assert.rejects(
    attempt({ train: split("train"), val: { ...split("val"), audio: `${bad}/nan.npy` } }),
    /nan\.npy: data: value NaN at row 13, column 4 is not finite/,
  );
  await Deno.writeTextFile(`${bad}/nan.jsonl`, "[1,2,3,4,5]\n[1,null,3,4,5]\n");
  await assert.rejects(
    attempt({ train: split("train"), val: { ...split("val"), text: `${bad}/nan.jsonl` } }),
    /nan\.jsonl: line 2\[1\]: null is not a finite number/,
  );
  // Labels out of range.
  const labels = (await Deno.readTextFile(`${dir}/val_labels.txt`)).split("\n");
  labels[7] = "3";
  await Deno.writeTextFile(`${bad}/labels.txt`, labels.join("\n"));
  await assert.rejects(
    attempt({ train: split("train"), val: { ...split("val"), labels: `${bad}/labels.txt` } }),
    /labels\.txt: example 7: label 3 is out of range: class ids must be integers in \[0, 2\]/,
  );
});
