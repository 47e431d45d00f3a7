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
