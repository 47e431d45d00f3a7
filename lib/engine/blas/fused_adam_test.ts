import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { Rng } from "../../util/rng.ts";
import { fusedAdamUpdate } from "./fused_adam.ts";
import { adamSimdFor } from "./adam_simd.ts";

/** Deterministic values in about [-scale, scale]. */
function values(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

Deno.test("fusedAdamUpdate runs on wasm and declines cpu, other dtypes and mismatched sizes", async () => {
  const k = { beta1: 0.9, beta2: 0.98, c1: 0.1, c2: 0.02, epsilon: 1e-9, lr: 0.1, weightDecay: 0 };
  await selectBackend("wasm");
  const [p, g, m, v] = [tf.ones([4]), tf.ones([4]), tf.zeros([4]), tf.zeros([4])];
  const outs = fusedAdamUpdate(p, g, m, v, k);
  assert.ok(outs, "the fused path applies on wasm");
  // Step 1 with g = 1: m' = 0.1, v' = 0.02, p' = 1 − 0.1 · 1/(1 + ε) ≈ 0.9.
  assert.ok(Math.abs((await outs[0].data())[0] - 0.9) < 1e-6);
  assert.equal(fusedAdamUpdate(p, tf.ones([5]), m, v, k), null);
  assert.equal(fusedAdamUpdate(p, tf.ones([4], "int32"), m, v, k), null);
  tf.dispose([p, g, m, v, ...outs]);
  await selectBackend("cpu");
  const c = [tf.ones([4]), tf.ones([4]), tf.zeros([4]), tf.zeros([4])];
  assert.equal(fusedAdamUpdate(c[0], c[1], c[2], c[3], k), null);
  tf.dispose(c);
  await selectBackend("wasm");
});

Deno.test("the SIMD loop compiles on the wasm heap and gives the JavaScript loop's bits", async () => {
  await selectBackend("wasm");
  const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } })
    .wasm.asm.memory;
  assert.ok(adamSimdFor(memory), "the SIMD module instantiates on the backend's memory");
  const rng = new Rng(11);
  const k = { beta1: 0.9, beta2: 0.98, c1: 0.19, c2: 0.0396, epsilon: 1e-9, lr: 0.003 };
  for (const n of [1, 4, 1003]) {
    for (const weightDecay of [0, 0.1]) {
      const [p, g, m, v] = [1, 0.1, 0.01, 0.0001].map((s) => tf.tensor(values(rng, n, s)));
      const v2 = tf.abs(v);
      const a = fusedAdamUpdate(p, g, m, v2, { ...k, weightDecay })!;
      const b = fusedAdamUpdate(p, g, m, v2, { ...k, weightDecay }, { simd: false })!;
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await a[i].data(), await b[i].data(), `n ${n}, output ${i}`);
      }
      tf.dispose([p, g, m, v, v2, ...a, ...b]);
    }
  }
});
