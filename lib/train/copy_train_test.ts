/**
 * End-to-end checks of the library's training pieces together: a training
 * step (forward, label-smoothed loss, gradients, Adam with a Noam rate)
 * leaks no tensors, and a small EncoderDecoder learns the copy task of the
 * Annotated Transformer (vocabulary 11, length 10, start symbol 1) to exact
 * copies under greedy decoding.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { type EncoderDecoder, makeModel, paddingMask, targetMask } from "../nn/mod.ts";
import { Adam } from "./adam.ts";
import { valueAndGrads } from "./grads.ts";
import { noamRate } from "./noam.ts";
import { LabelSmoothing } from "../nn/label_smoothing.ts";
import { greedyDecode } from "./greedy.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";

const V = 11, LEN = 10, START = 1;

/** A batch of the copy task: random tokens 1..V−1 with the start symbol first. */
function copyBatch(rng: Rng, batch: number): Int32Array {
  const data = new Int32Array(batch * LEN);
  for (let i = 0; i < data.length; i++) data[i] = i % LEN === 0 ? START : rng.int(1, V);
  return data;
}

function trainStep(
  model: EncoderDecoder,
  opt: Adam,
  crit: LabelSmoothing,
  data: Int32Array,
  batch: number,
  lr: number,
): number {
  return tf.tidy(() => {
    const all = tf.tensor2d(data, [batch, LEN], "int32");
    const src = all;
    const tgt = all.slice([0, 0], [batch, LEN - 1]);
    const tgtY = all.slice([0, 1], [batch, LEN - 1]);
    const ntokens = batch * (LEN - 1);
    const { value, grads } = valueAndGrads(model, () => {
      const out = model.forward(src, tgt, paddingMask(src), targetMask(tgt));
      return tf.div(crit.apply(model.generator.apply(out), tgtY), ntokens) as tf.Scalar;
    });
    opt.apply(grads, lr);
    return value.dataSync()[0];
  });
}

Deno.test("a training step leaks no tensors (count after step 1 equals count after step 20)", async () => {
  await selectBackend("wasm");
  const rng = new Rng(7);
  const model = makeModel(V, V, { N: 1, dModel: 16, dFF: 32, h: 2, dropout: 0.1 }, rng);
  const opt = new Adam(model.trainableParameters());
  const crit = new LabelSmoothing(V, 0, 0.1);
  const counts: number[] = [];
  for (let step = 1; step <= 20; step++) {
    const loss = trainStep(model, opt, crit, copyBatch(rng, 8), 8, noamRate(step, 16, 1, 10));
    assert.ok(Number.isFinite(loss));
    counts.push(tf.memory().numTensors);
  }
  assert.equal(counts[19], counts[0], `tensor counts per step: ${counts.join(", ")}`);
  model.eval();
  const before = tf.memory().numTensors;
  const src = tf.tensor2d(copyBatch(rng, 2), [2, LEN], "int32");
  const mask = paddingMask(src);
  greedyDecode(model, src, mask, LEN, START).dispose();
  src.dispose();
  mask.dispose();
  assert.equal(tf.memory().numTensors, before, "greedyDecode leaks no tensors");
  opt.dispose();
  model.dispose();
});

/** Number of exact copies greedyDecode makes of `n` fresh sequences. */
function exactCopies(model: EncoderDecoder, n: number): number {
  model.eval();
  const data = copyBatch(new Rng(99), n);
  const src = tf.tensor2d(data, [n, LEN], "int32");
  const mask = paddingMask(src);
  const out = greedyDecode(model, src, mask, LEN, START);
  const got = out.dataSync();
  tf.dispose([src, mask, out]);
  model.train();
  let exact = 0;
  for (let i = 0; i < n; i++) {
    let same = true;
    for (let j = 0; j < LEN; j++) same &&= got[i * LEN + j] === data[i * LEN + j];
    if (same) exact++;
  }
  return exact;
}

Deno.test({
  name: "the copy task reaches exact copies under greedyDecode",
  ignore: !!ciOnly,
}, async () => {
  await selectBackend("wasm");
  const rng = new Rng(11);
  const d = 64, batch = 32, n = 20, maxSteps = 500;
  const model = makeModel(V, V, { N: 1, dModel: d, dFF: 128, h: 4, dropout: 0 }, rng);
  const opt = new Adam(model.trainableParameters());
  const crit = new LabelSmoothing(V, 0, 0);
  let loss = NaN, exact = 0, step = 0;
  while (step < maxSteps) {
    step++;
    loss = trainStep(model, opt, crit, copyBatch(rng, batch), batch, noamRate(step, d, 1, 80));
    if (step >= 100 && step % 25 === 0 && (exact = exactCopies(model, n)) === n) break;
  }
  console.log(`copy task: step ${step}, loss ${loss.toFixed(4)}, exact copies ${exact}/${n}`);
  opt.dispose();
  model.dispose();
  assert.equal(exact, n, `only ${exact}/${n} exact copies after ${step} steps (loss ${loss})`);
});
