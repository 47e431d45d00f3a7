import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { Adam, type AdamOptions } from "./adam.ts";

/** Deterministic values in about [-scale, scale]. */
function values(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

/** Runs `steps` updates with the given options; returns p, m, v of every parameter. */
async function train(
  shapes: number[][],
  steps: number,
  opts: AdamOptions,
): Promise<Float32Array[]> {
  const rng = new Rng(7);
  const params = shapes.map((s, i) =>
    [`p${i}`, tf.tidy(() => tf.variable(tf.tensor(values(rng, tf.util.sizeFromShape(s)), s)))] as [
      string,
      tf.Variable,
    ]
  );
  const adam = new Adam(params, opts);
  for (let t = 0; t < steps; t++) {
    const grads: Record<string, tf.Tensor> = {};
    // Gradients spanning several magnitudes, and some exact zeros.
    for (const [n, p] of params) {
      const g = values(rng, p.size, 10 ** (t % 4 - 2));
      for (let i = 0; i < g.length; i += 7) g[i] = 0;
      grads[n] = tf.tensor(g, p.shape);
    }
    adam.apply(grads, 1e-3 * (t + 1));
    tf.dispose(Object.values(grads));
  }
  const out: Float32Array[] = [];
  const st = adam.state();
  for (const [n, p] of params) {
    out.push(await p.data() as Float32Array);
    out.push(await st[`m.${n}`].data() as Float32Array);
    out.push(await st[`v.${n}`].data() as Float32Array);
  }
  adam.dispose();
  for (const [, p] of params) p.dispose();
  return out;
}

const SHAPES = [[3, 5], [17], [1], [31, 7, 3]];

for (const weightDecay of [0, 0.01]) {
  Deno.test(`fused Adam is bit-for-bit the tensor formula on wasm (weight decay ${weightDecay})`, async () => {
    await selectBackend("wasm");
    const before = tf.memory().numTensors;
    const fused = await train(SHAPES, 6, { weightDecay, fused: true });
    const plain = await train(SHAPES, 6, { weightDecay, fused: false });
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    for (let i = 0; i < fused.length; i++) {
      assert.deepEqual(
        fused[i],
        plain[i],
        `tensor ${i} (p, m, v of parameter ${Math.floor(i / 3)})`,
      );
    }
  });
}

Deno.test("fused Adam matches a float64 reference of Adam within 1e-6 relative", async () => {
  await selectBackend("wasm");
  const rng = new Rng(3);
  const n = 1001;
  const p0 = values(rng, n), g1 = values(rng, n, 0.1), g2 = values(rng, n, 0.01);
  const p = tf.tidy(() => tf.variable(tf.tensor(p0)));
  const adam = new Adam([["p", p]], { weightDecay: 0.1 });
  const lr = [0.01, 0.02];
  for (const [t, g] of [g1, g2].entries()) {
    const gt = tf.tensor(g);
    adam.apply({ p: gt }, lr[t]);
    gt.dispose();
  }
  const got = await p.data();
  const b1 = 0.9, b2 = 0.98, eps = 1e-9;
  for (let i = 0; i < n; i++) {
    let w = p0[i], m = 0, v = 0;
    for (const [t, g] of [g1, g2].entries()) {
      m = b1 * m + (1 - b1) * g[i];
      v = b2 * v + (1 - b2) * g[i] * g[i];
      const mh = m / (1 - b1 ** (t + 1)), vh = v / (1 - b2 ** (t + 1));
      w = w * (1 - lr[t] * 0.1) - lr[t] * mh / (Math.sqrt(vh) + eps);
    }
    assert.ok(
      Math.abs(got[i] - w) <= 1e-6 * Math.max(1, Math.abs(w)),
      `element ${i}: ${got[i]} vs ${w}`,
    );
  }
  adam.dispose();
  p.dispose();
});

Deno.test("fused Adam survives heap growth inside the update", async () => {
  await selectBackend("wasm");
  // 3 × 24 MB of outputs: more than the heap holds free, so it grows mid-update.
  const fused = await train([[6_000_000], [5]], 1, { fused: true });
  const plain = await train([[6_000_000], [5]], 1, { fused: false });
  for (let i = 0; i < fused.length; i++) assert.deepEqual(fused[i], plain[i], `tensor ${i}`);
});
