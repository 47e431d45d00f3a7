/**
 * Behaviour of the fusions: the GMU's gates (z and 1 − z, a gate per
 * modality), the baselines against their equations computed by hand, late
 * fusion's averaged probabilities and loss, FusionClassifier, and errors.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import {
  ConcatFusion,
  FusionClassifier,
  GatedMultimodalUnit,
  LateFusion,
  makeFusion,
  meanGates,
  SumFusion,
} from "./mod.ts";
import { crossEntropy } from "../nn/losses.ts";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-5) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]`);
};

/** W x (+ b) for one row, W [out, in] row-major. */
const affine = (w: ArrayLike<number>, b: ArrayLike<number> | null, x: number[], out: number) =>
  Array.from({ length: out }, (_, o) => {
    let s = b ? b[o] : 0;
    for (let i = 0; i < x.length; i++) s += w[o * x.length + i] * x[i];
    return s;
  });

Deno.test("GMU bimodal: h = z⊙h1 + (1−z)⊙h2 with one gate; gates are [z, 1 − z]", async () => {
  await selectBackend("wasm");
  const gmu = new GatedMultimodalUnit([3, 2], 4, new Rng(1));
  assert.deepEqual(gmu.namedParameters().map(([n]) => n), [
    "hidden.0.weight",
    "hidden.1.weight",
    "gate.weight",
  ]);
  const x1 = [0.5, -1, 2], x2 = [1.5, 0.25];
  const { h, gates } = gmu.apply([tf.tensor2d([x1]), tf.tensor2d([x2])]);
  const sd = gmu.stateDict();
  const h1 = affine(sd["hidden.0.weight"].dataSync(), null, x1, 4).map(Math.tanh);
  const h2 = affine(sd["hidden.1.weight"].dataSync(), null, x2, 4).map(Math.tanh);
  const z = affine(sd["gate.weight"].dataSync(), null, [...x1, ...x2], 4).map((v) =>
    1 / (1 + Math.exp(-v))
  );
  close(h.dataSync(), z.map((zi, i) => zi * h1[i] + (1 - zi) * h2[i]), "h");
  assert.equal(gates.length, 2);
  close(tf.add(gates[0], gates[1]).dataSync(), [1, 1, 1, 1], "z + (1 − z)");
  assert.equal(meanGates(gates).length, 2);
  gmu.dispose();
});

Deno.test("GMU n-modal: a gate per modality over all inputs; forced for two inputs", async () => {
  await selectBackend("wasm");
  const tri = new GatedMultimodalUnit([3, 2, 4], 5, new Rng(2));
  assert.ok(tri.nModal);
  assert.equal(tri.namedParameters().filter(([n]) => n.startsWith("gates.")).length, 3);
  assert.deepEqual(tri.stateDict()["gates.2.weight"].shape, [5, 9]);
  const out = tri.apply([tf.ones([2, 3]), tf.ones([2, 2]), tf.ones([2, 4])]);
  assert.deepEqual(out.h.shape, [2, 5]);
  assert.equal(out.gates.length, 3);
  const forced = new GatedMultimodalUnit([3, 2], 5, new Rng(2), { nModal: true });
  assert.ok(forced.nModal && forced.namedParameters().some(([n]) => n === "gates.1.weight"));
  assert.throws(() => tri.apply([tf.ones([2, 3])]), /built for 3 modalities but got 1/);
  assert.throws(
    () => tri.apply([tf.ones([2, 3]), tf.ones([2, 3]), tf.ones([2, 4])]),
    /modality 1 should be \[B, 2\]/,
  );
  assert.throws(() => new GatedMultimodalUnit([3], 4, new Rng(1)), /at least 2 modalities/);
  tri.dispose();
  forced.dispose();
});

Deno.test("ConcatFusion = tanh(W[x1;x2]+b); SumFusion = Σ tanh(W_i x_i + b_i)", async () => {
  await selectBackend("wasm");
  const x1 = [0.3, -0.7], x2 = [1, 2, -1];
  const xs = [tf.tensor2d([x1]), tf.tensor2d([x2])];
  const cat = new ConcatFusion([2, 3], 4, new Rng(3));
  const sd = cat.stateDict();
  close(
    cat.apply(xs).h.dataSync(),
    affine(sd["proj.weight"].dataSync(), sd["proj.bias"].dataSync(), [...x1, ...x2], 4).map(
      Math.tanh,
    ),
    "concat",
  );
  assert.equal(cat.apply(xs).gates.length, 0);
  const sum = new SumFusion([2, 3], 4, new Rng(4));
  const s = sum.stateDict();
  const a = affine(s["hidden.0.weight"].dataSync(), s["hidden.0.bias"].dataSync(), x1, 4);
  const b = affine(s["hidden.1.weight"].dataSync(), s["hidden.1.bias"].dataSync(), x2, 4);
  close(sum.apply(xs).h.dataSync(), a.map((v, i) => Math.tanh(v) + Math.tanh(b[i])), "sum");
});

Deno.test("LateFusion averages per-modality probabilities; its loss averages per-head losses", async () => {
  await selectBackend("wasm");
  const late = new LateFusion([2, 3], 4, new Rng(5));
  const xs = [tf.tensor2d([[0.3, -0.7], [1, 1]]), tf.tensor2d([[1, 2, -1], [0, 0, 1]])];
  const out = late.apply(xs);
  const p = tf.div(tf.add(tf.softmax(out.logits![0]), tf.softmax(out.logits![1])), 2);
  close(out.h.dataSync(), p.dataSync(), "mean probabilities");
  close(out.h.sum(-1).dataSync(), [1, 1], "rows sum to 1");
  const y = tf.tensor1d([1, 3], "int32");
  const expected = (crossEntropy(out.logits![0], y).dataSync()[0] +
    crossEntropy(out.logits![1], y).dataSync()[0]) / 2;
  close([late.loss(out, y).dataSync()[0]], [expected], "loss");
  const clf = new FusionClassifier(late, 4, new Rng(6));
  assert.equal(clf.head, undefined);
  close(clf.apply(xs).probs.dataSync(), out.h.dataSync(), "classifier probs");
  assert.throws(() => new FusionClassifier(late, 5, new Rng(6)), /late fusion predicts 4 classes/);
});

Deno.test("makeFusion and FusionClassifier: every kind trains one step; gates come out for GMU", async () => {
  await selectBackend("wasm");
  for (const kind of ["gmu", "concat", "sum", "late"] as const) {
    const rng = new Rng(7);
    const clf = new FusionClassifier(
      makeFusion(kind, [3, 2], 6, rng, { classes: 3, multiLabel: true }),
      3,
      rng,
      true,
    );
    const xs = [
      tf.randomNormal([4, 3], 0, 1, "float32", 1),
      tf.randomNormal([4, 2], 0, 1, "float32", 2),
    ];
    const y = tf.tensor2d([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]]);
    const pred = clf.apply(xs);
    assert.deepEqual(pred.probs.shape, [4, 3], kind);
    assert.equal(pred.gates.length, kind === "gmu" ? 2 : 0, kind);
    const vars = clf.trainableParameters().map(([, v]) => v);
    const { value, grads } = tf.variableGrads(() => clf.apply(xs).loss(y), vars);
    assert.ok(Number.isFinite(value.dataSync()[0]), kind);
    assert.equal(Object.keys(grads).length, vars.length, `${kind}: a gradient for every weight`);
    clf.dispose();
  }
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => makeFusion("avg" as any, [1, 2], 3, new Rng(1), { classes: 2 }),
    /unknown fusion "avg": use gmu, concat, sum or late/,
  );
});
