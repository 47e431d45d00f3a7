import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import {
  lengthGeneralizationTask as task,
  lengthScores,
  trainLengthCheck,
} from "./length_generalization.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { Seq2SeqBatch } from "./seq2seq.ts";

await selectBackend("wasm");

const base = {
  task: { name: "length_generalization", maxTrainLength: 4, valSize: 32, testSize: 32 },
  model: { layers: 1, dModel: 32, dFF: 64, heads: 4, dropout: 0 },
  train: { batchSize: 32, lr: { schedule: "noam", factor: 2, warmup: 100 } },
  seed: 1,
};

Deno.test("length_generalization: training lengths stay within 1..L; per-length metrics", async () => {
  const config = testConfig(base);
  const { run } = await createRun(task, config);
  for (const b of run.batches(0) as Iterable<Seq2SeqBatch>) {
    assert.ok(b.srcLen <= 5);
    for (let r = 0; r < b.rows; r++) {
      assert.equal(b.src[r * b.srcLen], 1);
      for (let i = 1; i < b.srcLen; i++) assert.notEqual(b.src[r * b.srcLen + i], 1);
    }
  }
  await trainEpochs(run, config, 6);
  const m = await run.evaluate("val");
  for (const len of [4, 8, 12, 16]) {
    assert.ok(`exact_match@${len}` in m && `token_accuracy@${len}` in m, `missing @${len}`);
  }
  // Well above chance (0.1) in distribution; worse far outside it.
  assert.ok(m["token_accuracy@4"] > 0.45, `token_accuracy@4 = ${m["token_accuracy@4"]}`);
  assert.ok(m["token_accuracy@16"] < m["token_accuracy@4"]);
  const ood = (m["exact_match@8"] + m["exact_match@12"] + m["exact_match@16"]) / 3;
  assert.ok(Math.abs(m.exact_match_ood - ood) < 1e-12);
  const ins = await run.insights!();
  const lg = ins.length_generalization as {
    lengths: number[];
    metrics: Record<string, number[]>;
    positions: number[];
    byPosition: Record<string, number[]>;
    trainLength: number;
  };
  assert.deepEqual(lg.lengths, [4, 8, 12, 16]);
  assert.equal(lg.metrics.exact_match.length, 4);
  assert.equal(lg.metrics.token_accuracy[0], m["token_accuracy@4"]);
  // per output position: 16 positions; positions 1–4 pool all four lengths, 13–16 only length 16
  assert.deepEqual(lg.positions, Array.from({ length: 16 }, (_, i) => i + 1));
  assert.equal(lg.trainLength, 4);
  const acc = lg.byPosition.token_accuracy;
  // token_accuracy@4 is the mean of positions 1–4 over the length-4 set; the pooled positions
  // 1–4 mix in longer sequences, so only the beyond-L pooling is checked exactly:
  // every sequence longer than 4 has equal weight per position, so positions 5…16 pool
  // 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1 sets of 32 rows.
  const w = [3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1];
  const beyond = acc.slice(4).reduce((s, a, i) => s + a * w[i], 0) / 24;
  assert.ok(Math.abs(m.token_accuracy_beyond - beyond) < 1e-12, `${m.token_accuracy_beyond}`);
  run.model.dispose();
});

Deno.test("length_generalization: a learned table shorter than the evaluation is rejected", () => {
  const config = testConfig({ ...base, model: { positional: "learned", maxLen: 12 } });
  const errs = task.check!(config, task.options.parse({ maxTrainLength: 4 }));
  assert.equal(errs.length, 1);
  assert.equal(errs[0][0], "model.maxLen");
  assert.match(
    errs[0][1],
    /17 positions.*raise model.maxLen to at least 17.*evalLengths may go up to 11/,
  );
  const ok = testConfig({ ...base, model: { positional: "learned", maxLen: 17 } });
  assert.deepEqual(task.check!(ok, task.options.parse({ maxTrainLength: 4 })), []);
  const sin = testConfig({ ...base, model: { positional: "sinusoid", maxLen: 12 } });
  assert.deepEqual(task.check!(sin, task.options.parse({ maxTrainLength: 4 })), []);
});

Deno.test("lengthScores: per-length, mean, out-of-distribution and beyond-L scores by hand", () => {
  const { metrics, curves } = lengthScores([
    // length 2 (in distribution): one sequence right, one wrong at position 1
    { len: 2, preds: [[3, 4], [3, 5]], golds: [[3, 4], [3, 4]], loss: 0.5 },
    // length 4: right up to position 2, then one miss at 2 and one at 3
    { len: 4, preds: [[3, 4, 5, 6], [3, 4, 9, 9]], golds: [[3, 4, 5, 6], [3, 4, 5, 7]], loss: 1.5 },
  ], 2);
  assert.deepEqual(metrics, {
    "exact_match@2": 0.5,
    "token_accuracy@2": 3 / 4,
    "loss@2": 0.5,
    "exact_match@4": 0.5,
    "token_accuracy@4": 6 / 8,
    "loss@4": 1.5,
    exact_match: 0.5,
    token_accuracy: 3 / 4,
    loss: 1,
    exact_match_ood: 0.5,
    token_accuracy_ood: 6 / 8,
    // positions 2 and 3 of the length-4 sequences: 2 right of 4
    token_accuracy_beyond: 2 / 4,
  });
  assert.deepEqual(curves.lengths, [2, 4]);
  assert.deepEqual(curves.positions, [1, 2, 3, 4]);
  assert.deepEqual(curves.byPosition.token_accuracy, [1, 3 / 4, 1 / 2, 1 / 2]);
  assert.equal(curves.trainLength, 2);
  // no length beyond L: no out-of-distribution scores
  const inDist = lengthScores([{ len: 2, preds: [[3, 4]], golds: [[3, 4]], loss: 0 }], 2);
  assert.equal(inDist.metrics.exact_match_ood, undefined);
  assert.deepEqual(trainLengthCheck({ minTrainLength: 3, maxTrainLength: 2 }), [
    ["task.minTrainLength", "is 3, more than task.maxTrainLength 2"],
  ]);
  assert.deepEqual(trainLengthCheck({ minTrainLength: 2, maxTrainLength: 2 }), []);
});
