import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Adam } from "./adam.ts";

Deno.test("Adam holds exactly its two moments per parameter and frees them on dispose", async () => {
  await selectBackend("wasm");
  const p = tf.variable(tf.ones([3, 2]));
  const q = tf.variable(tf.ones([4]));
  const before = tf.memory().numTensors;
  const adam = new Adam([["p", p], ["q", q]]);
  assert.equal(tf.memory().numTensors - before, 4);
  adam.apply({ p: tf.onesLike(p), q: tf.onesLike(q) }, 0.1);
  adam.dispose();
  // The two gradient tensors made above remain; nothing of Adam's does.
  assert.equal(tf.memory().numTensors - before, 2);
  p.dispose();
  q.dispose();
});

Deno.test("Adam.apply throws, naming them, on gradients keyed by no parameter's path", async () => {
  await selectBackend("cpu");
  const p = tf.variable(tf.ones([2]));
  const adam = new Adam([["encoder.weight", p]]);
  const g = tf.ones([2]);
  // tf.variableGrads keys by variable name; a misspelt path is no better.
  assert.throws(
    () => adam.apply({ [p.name]: g, "encoder.wieght": g }, 0.1),
    (e: Error) => {
      assert.match(e.message, new RegExp(`"${p.name}"`));
      assert.match(e.message, /"encoder\.wieght"/);
      assert.match(e.message, /"encoder\.weight"/); // what it expects
      assert.match(e.message, /valueAndGrads/); // and the fix
      return true;
    },
  );
  assert.equal(adam.step, 0, "nothing was updated");
  assert.deepEqual(Array.from(await p.data()), [1, 1]);
  tf.dispose([p, g]);
  adam.dispose();
});

Deno.test("Adam strict: a parameter without a gradient is an error naming it; not strict, it is left", async () => {
  await selectBackend("cpu");
  const p = tf.variable(tf.ones([2])), q = tf.variable(tf.ones([3]));
  const g = tf.ones([2]);
  const strict = new Adam([["p", p], ["head.bias", q]], { strict: true });
  assert.throws(
    () => strict.apply({ p: g }, 0.1),
    /no gradient for 1 parameter\(s\): "head\.bias"/,
  );
  assert.equal(strict.step, 0);
  const lax = new Adam([["p", p], ["head.bias", q]]);
  lax.apply({ p: g }, 0.1);
  assert.notDeepEqual(Array.from(await p.data()), [1, 1]);
  assert.deepEqual(Array.from(await q.data()), [1, 1, 1]);
  tf.dispose([p, q, g]);
  strict.dispose();
  lax.dispose();
});
