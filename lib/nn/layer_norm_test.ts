import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { fusedLayerNormWasm, setLayerNormSimd } from "../engine/blas/layer_norm.ts";
import { layerNormSimdFor } from "../engine/blas/layer_norm_simd.ts";
import { fusedLayerNormWebGPU } from "../engine/webgpu/layer_norm.ts";
import { dispatchCounters } from "../engine/webgpu/dispatch.ts";
import { layerNormFormula } from "./layer_norm.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const gpu = await probeWebGPU();

/** Deterministic values in [-2, 2). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

type Fused = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, eps: number) => tf.Tensor | null;

/** y, ∂x, ∂a, ∂b of Σ(y · w) for a fixed weight w, by `ln`. */
async function run(shape: number[], ln: Fused | "formula") {
  const n = shape[shape.length - 1];
  const size = shape.reduce((p, q) => p * q, 1);
  const x = tf.tensor(values(size, 1), shape);
  const a = tf.tensor(values(n, 2), [n]), b = tf.tensor(values(n, 3), [n]);
  const w = tf.tensor(values(size, 4), shape);
  const f = (xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor) => {
    const y = ln === "formula" ? layerNormFormula(xi, ai, bi, 1e-6) : ln(xi, ai, bi, 1e-6);
    if (!y) throw new Error("the fused path declined");
    return y;
  };
  const y = tf.tidy(() => f(x, a, b));
  const grads = tf.grads((xi, ai, bi) => tf.sum(tf.mul(f(xi, ai, bi), w)))([x, a, b]);
  const out = [await y.data(), ...(await Promise.all(grads.map((g) => g.data())))];
  tf.dispose([x, a, b, w, y, ...grads]);
  return out.map((d) => Array.from(d as Float32Array));
}

function close(got: number[][], want: number[][], what: string) {
  const names = ["y", "∂x", "∂a", "∂b"];
  got.forEach((g, t) =>
    g.forEach((v, i) => {
      const r = want[t][i];
      assert.ok(
        Math.abs(v - r) <= 2e-5 + 2e-5 * Math.abs(r),
        `${what} ${names[t]}[${i}]: ${v} vs formula ${r}`,
      );
    })
  );
}

// (Width 1 is left out: σ is 0 there, where the formula's gradient is NaN; see below.)
const SHAPES = [[5, 7], [2, 3, 16], [64, 256], [300, 130]];

Deno.test("fused LayerNorm on wasm: y and the gradients of x, a and b equal the tensor formula", async () => {
  await selectBackend("wasm");
  assert.ok(layerNormSimdFor(new WebAssembly.Memory({ initial: 1 })), "the SIMD module validates");
  // Widths that are a multiple of 4 take the SIMD loops, others (and all with SIMD off) JavaScript.
  for (const simd of [true, false]) {
    setLayerNormSimd(simd);
    try {
      for (const shape of SHAPES) {
        const before = tf.memory().numTensors;
        const what = `wasm${simd ? "" : " (no SIMD)"} [${shape}]`;
        close(await run(shape, fusedLayerNormWasm), await run(shape, "formula"), what);
        assert.equal(tf.memory().numTensors, before, "no tensor left behind");
      }
    } finally {
      setLayerNormSimd(true);
    }
  }
  // Constant rows and width 1 (σ = 0) give finite gradients (the formula's √ gives NaN there).
  for (const shape of [[2, 4], [3, 1]]) {
    const n = shape[1];
    const x = tf.ones(shape), a = tf.ones([n]), b = tf.zeros([n]);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(fusedLayerNormWasm(xi, a, b, 1e-6)!, xi)))(
      x,
    );
    assert.ok((await g.data()).every(Number.isFinite), `[${shape}]`);
    tf.dispose([x, a, b, g]);
  }
  const a = tf.ones([4]), b = tf.zeros([4]);
  // Declines what it does not handle, so the caller uses the formula.
  const i32 = tf.ones([2, 4], "int32");
  assert.equal(fusedLayerNormWasm(i32, a, b, 1e-6), null);
  tf.dispose([i32, a, b]);
});

Deno.test({
  name:
    "fused LayerNorm on webgpu (three dispatches): y and the gradients equal the tensor formula",
  ignore: !gpu.ok,
  fn: async () => {
    await selectBackend("cpu");
    const ref = [];
    for (const shape of SHAPES) ref.push(await run(shape, "formula"));
    await selectBackend("webgpu");
    for (const [k, shape] of SHAPES.entries()) {
      const before = tf.memory().numTensors;
      const d0 = dispatchCounters().rawDispatches;
      close(await run(shape, fusedLayerNormWebGPU), ref[k], `webgpu [${shape}]`);
      // run() calls the forward twice (y alone, then under tf.grads) and the backward once.
      assert.equal(dispatchCounters().rawDispatches - d0, 4, "one dispatch forward, two backward");
      assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    }
    // More rows than one thread sums for ∂a and ∂b (chunks of 4096, then summed).
    const tall = [9000, 16];
    await selectBackend("cpu");
    const tallRef = await run(tall, "formula");
    await selectBackend("webgpu");
    close(await run(tall, fusedLayerNormWebGPU), tallRef, `webgpu [${tall}]`);
    // Constant rows (σ = 0) give finite gradients.
    const x = tf.ones([3, 70]), a = tf.ones([70]), b = tf.zeros([70]);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(fusedLayerNormWebGPU(xi, a, b, 1e-6)!, xi)))(
      x,
    );
    assert.ok((await g.data()).every(Number.isFinite));
    tf.dispose([x, a, b, g]);
    assert.equal(fusedLayerNormWasm(tf.ones([2]), tf.ones([2]), tf.ones([2]), 1e-6), null);
  },
});
