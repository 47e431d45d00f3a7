import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { copyTask } from "./copy.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { Seq2SeqBatch } from "./seq2seq.ts";
import { labelSmoothedLoss } from "./seq2seq.ts";
import { getTask } from "./registry.ts";

await selectBackend("wasm");

const base = {
  task: { name: "copy", batchesPerEpoch: 20, valSize: 40, testSize: 40 },
  model: { layers: 1, dModel: 32, dFF: 64, heads: 4, dropout: 0 },
  train: { batchSize: 32, lr: { schedule: "noam", factor: 1, warmup: 100 } },
  seed: 3,
};

Deno.test("registry: unknown task names suggest the closest", () => {
  assert.equal(getTask("copy").name, "copy");
  assert.throws(
    () => getTask("cpoy"),
    /unknown task "cpoy" \(did you mean "copy"\?\); valid tasks: copy/,
  );
});

Deno.test("copy: batches follow the reference layout and are deterministic per seed", async () => {
  const { run } = await createRun(copyTask, testConfig(base));
  const a = [...run.batches(0)] as Seq2SeqBatch[];
  const b = [...run.batches(0)] as Seq2SeqBatch[];
  const c = [...run.batches(1)] as Seq2SeqBatch[];
  assert.equal(a.length, 20);
  assert.equal(run.stepsPerEpoch, 20);
  assert.deepEqual(a[0].src, b[0].src);
  assert.notDeepEqual(a[0].src, c[0].src);
  assert.deepEqual(a[0].src, a[0].tgt);
  assert.equal(a[0].srcLen, 10);
  for (let r = 0; r < a[0].rows; r++) {
    assert.equal(a[0].src[r * 10], 1);
    for (let i = 1; i < 10; i++) assert.ok(a[0].src[r * 10 + i] >= 1 && a[0].src[r * 10 + i] < 11);
  }
  const { run: other } = await createRun(copyTask, testConfig({ ...base, seed: 4 }));
  assert.notDeepEqual(([...other.batches(0)][0] as Seq2SeqBatch).src, a[0].src);
  run.model.dispose();
  other.model.dispose();
});

Deno.test("label smoothing: KL form by hand; padding rows count nothing", () => {
  // V = 4, ε = 0.4: target row for gold 2 is [0, 0.2, 0.6, 0.2] (pad column 0 gets nothing).
  const logp = tf.log(tf.tensor2d([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]]));
  const loss = labelSmoothedLoss(logp as tf.Tensor2D, tf.tensor1d([2, 0], "int32"), 0.4);
  const p = [0.2, 0.6, 0.2], q = [0.2, 0.3, 0.4];
  const want = p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]), 0);
  assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-5, `${loss.dataSync()[0]} vs ${want}`);
  const nll = labelSmoothedLoss(logp as tf.Tensor2D, tf.tensor1d([2, 3], "int32"), 0);
  assert.ok(Math.abs(nll.dataSync()[0] - -(Math.log(0.3) + Math.log(0.25)) / 2) < 1e-5);
  tf.dispose([logp, loss, nll]);
});

Deno.test("copy: a small model learns to copy; insights have the report's shapes", async () => {
  const config = testConfig(base);
  const { run } = await createRun(copyTask, config);
  const before = await run.evaluate("val");
  const losses = await trainEpochs(run, config, 8);
  const after = await run.evaluate("val");
  assert.ok(losses[7] < losses[0] * 0.5, `training loss ${losses}`);
  assert.ok(after.token_accuracy > 0.9, `token accuracy ${after.token_accuracy}`);
  assert.ok(after.exact_match > before.exact_match);
  const ins = await run.insights!();
  const pos = ins.positional as { kind: string; matrix: number[][] };
  assert.equal(pos.kind, "sinusoid");
  assert.equal(pos.matrix.length, 10);
  assert.equal(pos.matrix[0].length, 32);
  const att = ins.attention as { tokens: string[]; layers: { heads: number[][][] }[] };
  assert.equal(att.tokens.length, 10);
  assert.equal(att.layers[0].heads.length, 4);
  assert.equal(att.layers[0].heads[0].length, 10);
  const rowSum = att.layers[0].heads[0][3].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(rowSum - 1) < 1e-4);
  run.model.dispose();
});

Deno.test("copy: check rejects a learned table shorter than the sequence", () => {
  const config = testConfig({ ...base, model: { positional: "learned", maxLen: 8 } });
  const errs = copyTask.check!(config, copyTask.options.parse({}));
  assert.equal(errs[0][0], "model.maxLen");
  assert.match(errs[0][1], /shorter than the sequence length task.length \(10 positions\)/);
});
