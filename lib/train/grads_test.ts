import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { Linear } from "../nn/linear.ts";
import { Adam } from "./adam.ts";
import { valueAndGrads } from "./grads.ts";

Deno.test("valueAndGrads keys ∂L/∂θ by parameter path; Adam strict accepts them", async () => {
  await selectBackend("cpu");
  const lin = new Linear(3, 2, new Rng(1));
  const x = tf.tensor2d([[1, 2, 3]]);
  // L = Σ (x Wᵀ + b): ∂L/∂W = 1 xᵀ (each row x), ∂L/∂b = 1.
  const { value, grads } = valueAndGrads(lin, () => tf.sum(lin.apply(x)) as tf.Scalar);
  assert.deepEqual(Object.keys(grads).sort(), ["bias", "weight"]);
  assert.deepEqual(await grads.weight.array(), [[1, 2, 3], [1, 2, 3]]);
  assert.deepEqual(Array.from(await grads.bias.data()), [1, 1]);
  const w = await lin.namedParameters()[0][1].array() as number[][];
  const b = Array.from(await lin.namedParameters()[1][1].data());
  const want = w.reduce((s, row) => s + row[0] + 2 * row[1] + 3 * row[2], 0) + b[0] + b[1];
  assert.ok(Math.abs((await value.data())[0] - want) < 1e-5);
  const adam = new Adam(lin.trainableParameters(), { strict: true });
  adam.apply(grads, 0.1);
  assert.equal(adam.step, 1);
  tf.dispose([x, value, ...Object.values(grads)]);
  adam.dispose();
  lin.dispose();
});

Deno.test("valueAndGrads over named pairs of several modules: a path each", async () => {
  await selectBackend("cpu");
  const a = new Linear(2, 2, new Rng(2)), b = new Linear(2, 1, new Rng(3));
  const named = [a, b].flatMap((m, i) =>
    m.trainableParameters().map(([n, v]) => [`${i}.${n}`, v] as [string, tf.Variable])
  );
  const x = tf.ones([1, 2]);
  const { value, grads } = valueAndGrads(named, () => tf.sum(b.apply(a.apply(x))) as tf.Scalar);
  assert.deepEqual(Object.keys(grads).sort(), ["0.bias", "0.weight", "1.bias", "1.weight"]);
  tf.dispose([x, value, ...Object.values(grads)]);
  a.dispose();
  b.dispose();
});
