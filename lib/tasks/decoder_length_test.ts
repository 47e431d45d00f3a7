import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { makeDecoderOnly } from "../nn/decoder_only.ts";
import { greedyContinue } from "../train/greedy_causal.ts";
import {
  answerBatch,
  answerOf,
  decoderLengthTask as task,
  exampleSequence,
  greedyAnswers,
  promptIds,
  SEQUENCE_IDS,
} from "./decoder_length.ts";
import { causalLoss } from "./decoder_only.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";

await selectBackend("wasm");

const { bos: BOS, sep: SEP } = SEQUENCE_IDS;

Deno.test("decoder_length: one sequence is BOS prompt SEP answer (copy and reverse)", () => {
  assert.deepEqual(Array.from(exampleSequence([5, 6, 7], "copy")), [BOS, 5, 6, 7, SEP, 5, 6, 7]);
  assert.deepEqual(
    Array.from(exampleSequence([5, 6, 7], "reverse")),
    [BOS, 5, 6, 7, SEP, 7, 6, 5],
  );
  assert.deepEqual(Array.from(answerOf([3, 4], "reverse")), [4, 3]);
  assert.deepEqual(Array.from(promptIds([[5, 6], [7, 8]])), [1, 5, 6, 2, 1, 7, 8, 2]);
  assert.throws(() => promptIds([[5, 6], [7]]), /row 1 has 1 symbols, not 2/);
});

Deno.test("decoder_length: inputs, shifted targets and a loss mask on the answer only", () => {
  // rows of 2 and 1 symbols: widths 2n+1 = 5 and 3, padded to 5
  const b = answerBatch([[5, 6], [7]], "reverse");
  assert.equal(b.rows, 2);
  assert.equal(b.len, 5);
  assert.deepEqual(Array.from(b.ids), [1, 5, 6, 2, 6, /**/ 1, 7, 2, 0, 0]);
  assert.deepEqual(Array.from(b.targets), [5, 6, 2, 6, 5, /**/ 7, 2, 7, 0, 0]);
  // weights on the targets y: row 0 at positions 3, 4 (targets 6, 5); row 1 at position 2 (7)
  assert.deepEqual(Array.from(b.weights!), [0, 0, 0, 1, 1, /**/ 0, 0, 1, 0, 0]);
});

Deno.test("decoder_length: the loss is the answer NLL only (prompt tokens do not count)", () => {
  const model = makeDecoderOnly(8, { N: 1, dModel: 16, dFF: 32, h: 2, dropout: 0 }, new Rng(3));
  model.eval();
  const b = answerBatch([[5, 6, 4]], "copy");
  const logp = model.logProbs(tf.tensor2d(b.ids, [1, b.len], "int32"));
  const lp = logp.arraySync() as number[][][];
  // answer targets 5, 6, 4 at input positions 4, 5, 6
  const want = -(lp[0][4][5] + lp[0][5][6] + lp[0][6][4]) / 3;
  const got = causalLoss(model, b).arraySync() as number;
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  logp.dispose();
  model.dispose();
});

Deno.test("greedyContinue: appends the argmax of each step, as a loop of full forwards", () => {
  const model = makeDecoderOnly(9, { N: 2, dModel: 16, dFF: 32, h: 2, dropout: 0 }, new Rng(5));
  model.eval();
  const prompt = tf.tensor2d([[1, 4, 5, 2], [1, 7, 3, 2]], [2, 4], "int32");
  const cont = greedyContinue(model, prompt, 3).arraySync();
  // the reference: one full forward per step, argmax read on the host
  for (let r = 0; r < 2; r++) {
    const seq = (prompt.arraySync() as number[][])[r].slice();
    for (let s = 0; s < 3; s++) {
      const lp = model.logProbs(tf.tensor2d([seq], [1, seq.length], "int32"));
      const last = (lp.arraySync() as number[][][])[0][seq.length - 1];
      lp.dispose();
      seq.push(last.indexOf(Math.max(...last)));
    }
    assert.deepEqual(cont[r], seq.slice(4));
  }
  prompt.dispose();
  model.dispose();
});

const base = {
  task: {
    name: "decoder_length_generalization",
    operation: "copy",
    vocab: 6,
    maxTrainLength: 3,
    evalLengths: [3, 5],
    valSize: 16,
    testSize: 16,
    batchesPerEpoch: 20,
  },
  model: { layers: 2, dModel: 32, dFF: 64, heads: 4, dropout: 0 },
  train: { batchSize: 32, lr: { schedule: "noam", factor: 2, warmup: 60 } },
  seed: 1,
};

Deno.test("decoder_length: a tiny run learns copy in distribution; metrics and artifact agree", async () => {
  const config = testConfig(base);
  const { run } = await createRun(task, config);
  for (const b of run.batches(0)) {
    const c = b as { len: number; ids: Int32Array; rows: number };
    assert.ok(c.len <= 7 && c.ids[0] === BOS);
  }
  const losses = await trainEpochs(run, config, 6);
  assert.ok(losses[5] < 0.6 * losses[0], `loss ${losses[0]} → ${losses[5]}`);
  const m = await run.evaluate("val");
  // 3 symbols of which a guess is right 1/3: well above chance in distribution
  assert.ok(m["token_accuracy@3"] > 0.6, `token_accuracy@3 = ${m["token_accuracy@3"]}`);
  assert.equal(m.exact_match_ood, m["exact_match@5"]);
  assert.equal(m.token_accuracy_ood, m["token_accuracy@5"]);
  assert.ok(Math.abs(m.exact_match - (m["exact_match@3"] + m["exact_match@5"]) / 2) < 1e-12);
  const ins = await run.insights!();
  const lg = ins.length_generalization as {
    lengths: number[];
    positions: number[];
    byPosition: { token_accuracy: number[] };
    trainLength: number;
  };
  assert.deepEqual(lg.lengths, [3, 5]);
  assert.equal((lg as unknown as { split: string }).split, "val");
  assert.deepEqual(lg.positions, [1, 2, 3, 4, 5]);
  assert.equal(lg.trainLength, 3);
  // positions 4 and 5 exist only in the length-5 answers: their pooled accuracy is
  // token_accuracy_beyond; the 5 positions of length 5 average to token_accuracy@5
  const acc = lg.byPosition.token_accuracy;
  assert.ok(Math.abs(m.token_accuracy_beyond - (acc[3] + acc[4]) / 2) < 1e-12);
  // the greedy answers the metrics scored, recomputed
  const prompts = [[3, 4, 5], [5, 5, 3]];
  const answers = await greedyAnswers(
    run.model as Parameters<typeof greedyAnswers>[0],
    prompts,
  );
  assert.equal(answers.length, 2);
  assert.equal(answers[0].length, 3);
  assert.ok(ins.attention !== undefined && ins.positional !== undefined);
  run.model.dispose();
});

Deno.test("decoder_length: a learned table shorter than 2n + 1 positions is rejected", () => {
  const { name: _name, ...opts } = base.task;
  const config = testConfig({ ...base, model: { positional: "learned", maxLen: 10 } });
  const errs = task.check!(config, task.options.parse(opts));
  assert.equal(errs.length, 1);
  assert.equal(errs[0][0], "model.maxLen");
  assert.match(errs[0][1], /11 positions.*evalLengths may go up to 4/);
  const ok = testConfig({ ...base, model: { positional: "learned", maxLen: 11 } });
  assert.deepEqual(task.check!(ok, task.options.parse(opts)), []);
});
