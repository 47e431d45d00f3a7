/**
 * Behaviour of the Transformer building blocks beyond PyTorch parity:
 * dropout, initialisation, masks, errors with their fixes, RoPE's relative
 * property, ALiBi slopes, state-dict names, the sequence encoder's pooling,
 * the MLP encoder and the classification head.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import {
  alibiSlopes,
  applyRope,
  ClassificationHead,
  dropout,
  dropoutState,
  Embeddings,
  encoderLayers,
  LearnedPositionalEncoding,
  Linear,
  loadDropoutState,
  makeModel,
  matmul,
  matmulT,
  MLPEncoder,
  modelOptionDefaults,
  MultiHeadedAttention,
  paddingMask,
  PositionalEncoding,
  SequenceEncoder,
  subsequentMask,
  targetMask,
} from "./mod.ts";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, what = "") => {
  assert.equal(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
};

Deno.test("dropout: identity in eval or at rate 0; inverted scaling and seeded masks in training", async () => {
  await selectBackend("wasm");
  const x = tf.ones([1000]);
  assert.equal(dropout(x, 0.5, new Rng(1), false), x);
  assert.equal(dropout(x, 0, new Rng(1), true), x);
  const y = dropout(x, 0.25, new Rng(1), true).dataSync();
  const kept = Array.from(y).filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), "kept units scaled by 1/(1-p)");
  assert.ok(Math.abs(1 - kept.length / 1000 - 0.25) < 0.06, `dropped ${1000 - kept.length}/1000`);
  close(dropout(x, 0.25, new Rng(1), true).dataSync(), y, 0, "same seed, same mask");
  assert.throws(() => dropout(x, 1, new Rng(1), true), /below 1/);
  x.dispose();
});

Deno.test("Linear: y = x Wᵀ + b for rank 3, Xavier bounds, same weights on wasm and cpu", async () => {
  const weightsOn = async (backend: "wasm" | "cpu") => {
    await selectBackend(backend);
    const l = new Linear(4, 3, new Rng(42));
    const w = Array.from(l.weight.dataSync()), b = Array.from(l.bias!.dataSync());
    l.dispose();
    return [w, b];
  };
  const [wc, bc] = await weightsOn("cpu");
  const [ww, bw] = await weightsOn("wasm");
  assert.deepEqual(ww, wc);
  assert.deepEqual(bw, bc);
  const bound = Math.sqrt(6 / 7);
  assert.ok(ww.every((v) => Math.abs(v) <= bound) && ww.some((v) => Math.abs(v) > 0.5 * bound));
  assert.ok(bw.every((v) => Math.abs(v) <= 0.5), "bias U(±1/√in)");

  const l = new Linear(4, 3, new Rng(42));
  const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => (i % 7) - 3), [2, 3, 4]);
  const y = l.apply(x);
  assert.deepEqual(y.shape, [2, 3, 3]);
  const xs = x.dataSync(), out = y.dataSync();
  for (let r = 0; r < 6; r++) {
    for (let o = 0; o < 3; o++) {
      let s = bw[o];
      for (let i = 0; i < 4; i++) s += xs[r * 4 + i] * ww[o * 4 + i];
      assert.ok(Math.abs(out[r * 3 + o] - s) < 1e-5);
    }
  }
  assert.throws(() => l.apply(tf.zeros([2, 5])), /Linear\(4 → 3\) got input of width 5/);
  assert.equal(new Linear(4, 3, new Rng(1), { bias: false }).namedParameters().length, 1);
  tf.dispose([x, y]);
  l.dispose();
});

Deno.test("matmul and matmulT: values and gradients equal tf.matMul's", async () => {
  await selectBackend("wasm");
  const a = tf.randomNormal([2, 3, 4], 0, 1, "float32", 1);
  const b = tf.randomNormal([2, 4, 5], 0, 1, "float32", 2);
  const bt = tf.randomNormal([2, 5, 4], 0, 1, "float32", 3);
  close(matmul(a, b).dataSync(), tf.matMul(a, b).dataSync(), 1e-5, "matmul");
  close(matmulT(a, bt).dataSync(), tf.matMul(a, bt, false, true).dataSync(), 1e-5, "matmulT");
  const mine = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(matmulT(x, y))))([a, bt]);
  const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.square(tf.matMul(x, y, false, true)))
  )([a, bt]);
  mine.forEach((g, i) => close(g.dataSync(), ref[i].dataSync(), 1e-4, `grad ${i}`));
  assert.throws(() => matmul(a, tf.zeros([4, 5])), /leading dims/);
});

Deno.test("Embeddings: lut[x] · √d_model, parameter lut.weight", async () => {
  await selectBackend("wasm");
  const e = new Embeddings(5, 4, new Rng(3));
  assert.deepEqual(e.namedParameters().map(([n]) => n), ["lut.weight"]);
  const y = e.apply(tf.tensor2d([[2, 0]], [1, 2], "int32")).dataSync();
  const w = e.lut.weight.dataSync();
  close(y.slice(0, 4), Array.from(w.slice(8, 12), (v) => v * 2), 1e-6, "row 2 · √4");
  e.dispose();
});

Deno.test("masks: subsequent lower triangle, padding [B,1,T], target = both", async () => {
  await selectBackend("wasm");
  assert.deepEqual(subsequentMask(3).arraySync(), [[[1, 0, 0], [1, 1, 0], [1, 1, 1]]]);
  const ids = tf.tensor2d([[5, 3, 0], [4, 0, 0]], undefined, "int32");
  assert.deepEqual(paddingMask(ids).arraySync(), [[[1, 1, 0]], [[1, 0, 0]]]);
  assert.deepEqual(targetMask(ids).arraySync()[1], [[1, 0, 0], [1, 0, 0], [1, 0, 0]]);
  assert.throws(() => paddingMask(tf.zeros([3])), /expects ids \[B, T\]/);
});

Deno.test("MultiHeadedAttention: clear error for d_model % h; masked keys get zero attention", async () => {
  await selectBackend("wasm");
  assert.throws(
    () => new MultiHeadedAttention(4, 30, 0, new Rng(1)),
    /d_model 30 is not divisible by h = 4: choose heads that divide d_model/,
  );
  assert.throws(
    () => new MultiHeadedAttention(2, 6, 0, new Rng(1), { positional: "rope" }),
    /RoPE needs an even width per head/,
  );
  const m = new MultiHeadedAttention(2, 8, 0, new Rng(1));
  m.recordAttention = true;
  const x = tf.randomNormal([1, 4, 8], 0, 1, "float32", 5);
  m.apply(x, x, x, tf.tensor3d([[[1, 1, 1, 0]]]));
  const probs = m.lastAttention!;
  assert.equal(probs.length, 1);
  assert.equal(probs[0].length, 2);
  for (const row of probs[0].flat()) {
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(row[3], 0);
  }
  m.dispose();
});

Deno.test("RoPE: scores depend only on the offset i − j; ALiBi slopes are 2^(−8k/h)", async () => {
  await selectBackend("wasm");
  // The same q at every position and the same k at every position.
  const q = tf.tile(tf.randomNormal([1, 1, 8], 0, 1, "float32", 7), [1, 6, 1]);
  const k = tf.tile(tf.randomNormal([1, 1, 8], 0, 1, "float32", 8), [1, 6, 1]);
  const s = tf.matMul(applyRope(q), applyRope(k), false, true).arraySync() as number[][][];
  for (let i = 1; i < 6; i++) {
    for (let j = 1; j < 6; j++) assert.ok(Math.abs(s[0][i][j] - s[0][i - 1][j - 1]) < 1e-4);
  }
  assert.ok(Math.abs(s[0][0][1] - s[0][0][0]) > 1e-3, "different offsets differ");
  close(alibiSlopes(8), [1, 2, 3, 4, 5, 6, 7, 8].map((k) => Math.pow(2, -k)), 1e-12, "h=8");
  close(alibiSlopes(2), [Math.pow(2, -4), Math.pow(2, -8)], 1e-12, "h=2");
  assert.equal(alibiSlopes(6).length, 6);
});

Deno.test("positional encodings: sinusoid table values, learned-table error past maxLen", async () => {
  await selectBackend("wasm");
  const t = new PositionalEncoding(4, 0, new Rng(1)).table(3);
  close(t[0], [0, 1, 0, 1], 1e-7, "pos 0");
  close(t[2], [Math.sin(2), Math.cos(2), Math.sin(0.02), Math.cos(0.02)], 1e-6, "pos 2");
  // apply adds PE[:T] for each length in turn (the last length's table is kept between calls).
  const pe = new PositionalEncoding(4, 0, new Rng(1));
  for (const len of [3, 2, 3, 5]) {
    const y = pe.apply(tf.zeros([2, len, 4]));
    const want = new PositionalEncoding(4, 0, new Rng(1)).table(len);
    const got = y.arraySync() as number[][][];
    for (const b of [0, 1]) {
      got[b].forEach((row, p) => close(row, want[p], 1e-7, `T=${len} pos ${p}`));
    }
    y.dispose();
  }
  const l = new LearnedPositionalEncoding(32, 4, new Rng(1));
  assert.throws(
    () => l.apply(tf.zeros([1, 40, 4])),
    /position 40 is past the learned table's maxLen 32: raise model.maxLen or evaluate on shorter sequences/,
  );
  assert.equal(l.positionalMatrix().length, 32);
  l.dispose();
});

Deno.test("makeModel: PyTorch state-dict names, shapes, distinct layers, seeded init", async () => {
  await selectBackend("wasm");
  const m = makeModel(7, 9, { N: 2, dModel: 8, dFF: 16, h: 2 }, new Rng(1));
  const names = m.namedParameters().map(([n]) => n);
  for (
    const n of [
      "encoder.layers.0.self_attn.linears.0.weight",
      "encoder.layers.1.feed_forward.w_2.bias",
      "encoder.layers.0.sublayer.1.norm.a_2",
      "encoder.norm.b_2",
      "decoder.layers.1.src_attn.linears.3.weight",
      "decoder.layers.0.sublayer.2.norm.a_2",
      "decoder.norm.a_2",
      "src_embed.0.lut.weight",
      "tgt_embed.0.lut.weight",
      "generator.proj.weight",
      "generator.proj.bias",
    ]
  ) assert.ok(names.includes(n), n);
  assert.deepEqual(m.stateDict()["tgt_embed.0.lut.weight"].shape, [9, 8]);
  assert.deepEqual(m.stateDict()["generator.proj.weight"].shape, [9, 8]);
  // Parameter count of one encoder layer, d=8, dff=16: 4·(64+8) + (128+16+128+8) + 2·16.
  const encLayer = m.encoder.layers.at(0).parameterCount();
  assert.equal(encLayer, 4 * 72 + 280 + 32);
  const w0 = m.stateDict()["encoder.layers.0.self_attn.linears.0.weight"].dataSync();
  const w1 = m.stateDict()["encoder.layers.1.self_attn.linears.0.weight"].dataSync();
  assert.notDeepEqual(Array.from(w0), Array.from(w1));
  const again = makeModel(7, 9, { N: 2, dModel: 8, dFF: 16, h: 2 }, new Rng(1));
  assert.deepEqual(
    Array.from(again.stateDict()["generator.proj.weight"].dataSync()),
    Array.from(m.stateDict()["generator.proj.weight"].dataSync()),
  );
  m.dispose();
  again.dispose();
});

Deno.test("SequenceEncoder: mean pooling ignores padding; frames and first-token pooling", async () => {
  await selectBackend("wasm");
  const enc = new SequenceEncoder({ vocab: 10, dModel: 8, h: 2, N: 1, dropout: 0 }, new Rng(2))
    .eval();
  const padded = enc.apply(tf.tensor2d([[3, 4, 5, 0, 0]], undefined, "int32"));
  const short = enc.apply(tf.tensor2d([[3, 4, 5]], undefined, "int32"));
  assert.deepEqual(padded.shape, [1, 8]);
  close(padded.dataSync(), short.dataSync(), 1e-5, "padding does not change the pooled vector");
  const frames = new SequenceEncoder(
    { features: 6, dModel: 8, h: 2, N: 1, pool: "first", positional: "alibi" },
    new Rng(3),
  );
  const y = frames.apply(tf.randomNormal([3, 4, 6]));
  assert.deepEqual(y.shape, [3, 8]);
  assert.ok(frames.namedParameters().some(([n]) => n === "embed.0.weight"));
  assert.throws(() => new SequenceEncoder({ dModel: 8 }, new Rng(1)), /exactly one of `vocab`/);
  enc.dispose();
  frames.dispose();
});

Deno.test("MLPEncoder and ClassificationHead: shapes, both argument orders, losses", async () => {
  await selectBackend("wasm");
  const mlp = new MLPEncoder([5, 7, 3], 0.1, new Rng(1)).eval();
  assert.deepEqual(mlp.namedParameters().map(([n]) => n), [
    "layers.0.weight",
    "layers.0.bias",
    "layers.1.weight",
    "layers.1.bias",
  ]);
  const h = mlp.apply(tf.randomNormal([4, 5]));
  assert.deepEqual(h.shape, [4, 3]);
  assert.ok(Array.from(h.dataSync()).every((v) => v >= 0), "ReLU output");
  const single = new ClassificationHead(3, 4, new Rng(2));
  const multi = new ClassificationHead(3, 4, { multiLabel: true }, new Rng(2));
  const logits = single.apply(h);
  close(single.probabilities(logits).sum(-1).dataSync(), [1, 1, 1, 1], 1e-5, "softmax rows");
  const l1 = single.loss(logits, tf.tensor1d([0, 1, 2, 3], "int32")).dataSync()[0];
  const l2 = multi.loss(multi.apply(h), tf.zeros([4, 4])).dataSync()[0];
  assert.ok(l1 > 0 && l2 > 0);
  assert.throws(() => new MLPEncoder([5], 0, new Rng(1)), /at least \[in, out\]/);
});

Deno.test("dropoutState: restoring the streams replays the same dropout masks", async () => {
  await selectBackend("wasm");
  const m = makeModel(7, 7, { N: 1, dModel: 8, dFF: 8, h: 2, dropout: 0.3 }, new Rng(1));
  const src = tf.tensor2d([[1, 2, 3, 4]], undefined, "int32");
  const run = () => Array.from(tf.tidy(() => m.forward(src, src).dataSync()));
  const saved = dropoutState(m);
  // Encoder layer: attention, feed-forward, 2 residuals; decoder layer: 2 attentions,
  // feed-forward, 3 residuals; 2 positional stages.
  assert.equal(saved.length, 4 + 6 + 2, "one stream per module with dropout");
  const first = run();
  assert.notDeepEqual(run(), first, "masks change from call to call");
  loadDropoutState(m, saved);
  assert.deepEqual(run(), first);
  assert.throws(() => loadDropoutState(m, [1, 2]), /dropout state has 2 streams but the model has/);
  m.dispose();
});

Deno.test("modelOptionDefaults: the Annotated Transformer's sizes; given values kept", () => {
  assert.deepEqual(modelOptionDefaults({}), {
    N: 6,
    dModel: 512,
    dFF: 2048,
    h: 8,
    dropout: 0.1,
    positional: "sinusoid",
    maxLen: 5000,
    norm: "pre",
  });
  assert.deepEqual(modelOptionDefaults({ N: 2, dropout: 0, norm: "post" }), {
    ...modelOptionDefaults({}),
    N: 2,
    dropout: 0,
    norm: "post",
  });
});

Deno.test("encoderLayers: N layers of the given sizes, parameters named as the reference's", () => {
  const layers = encoderLayers(
    { N: 3, dModel: 8, h: 2, dFF: 12, dropout: 0, positional: "alibi", norm: "post" },
    new Rng(1),
  );
  assert.equal(layers.length, 3);
  const shapes = Object.fromEntries(layers[2].namedParameters().map(([n, v]) => [n, v.shape]));
  assert.deepEqual(shapes["feed_forward.w_1.weight"], [12, 8]);
  assert.deepEqual(shapes["self_attn.linears.0.weight"], [8, 8]);
  assert.equal(layers[0].selfAttn.h, 2);
  // each layer draws its own weights
  const w = (i: number) => layers[i].namedParameters()[0][1].dataSync();
  assert.notDeepEqual(Array.from(w(0)), Array.from(w(1)));
  for (const l of layers) l.dispose();
});
