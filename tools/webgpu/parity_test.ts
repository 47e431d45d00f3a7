/**
 * The PyTorch parity fixtures (tests/fixtures/parity, written by
 * tools/torch_reference.py) on the webgpu backend: the full encoder–decoder
 * in five positional/norm variants and the GMU in three, forward, loss and
 * every gradient. (lib/nn/parity_test.ts runs them on wasm and cpu; it reads
 * synchronously, which WebGPU in Deno cannot, so these read with `await`.)
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/engine/backend.ts";
import { checkWebGPU, probeWebGPU } from "../../lib/engine/webgpu/backend.ts";
import { Rng } from "../../lib/util/rng.ts";
import { paddingMask, targetMask } from "../../lib/nn/masks.ts";
import type { Module } from "../../lib/nn/module.ts";
import {
  type Encoded,
  encoderDecoderFromFixture,
  loadFixture,
  tensor,
} from "../../lib/nn/parity_test_support.ts";
import { LabelSmoothing } from "../../lib/nn/label_smoothing.ts";
import { GatedMultimodalUnit } from "../../lib/fusion/gmu.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu parity tests: ${probe.why}`);

/** |a − e| ≤ atol + rtol·|e| elementwise, read asynchronously. */
async function assertCloseAsync(
  actual: tf.Tensor | number,
  expected: Encoded | number,
  what: string,
  atol = 1e-4,
  rtol = 1e-4,
): Promise<void> {
  const a = typeof actual === "number" ? [actual] : Array.from(await actual.data());
  const e = typeof expected === "number" ? [expected] : expected.data;
  if (typeof actual !== "number" && typeof expected !== "number") {
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  }
  assert.equal(a.length, e.length, `${what}: size`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    assert.ok(ok, `${what}: element ${i} is ${a[i]} on webgpu, PyTorch gives ${e[i]}`);
  }
}

async function checkGrads(
  m: Module,
  grads: tf.NamedTensorMap,
  expected: Record<string, Encoded>,
  what: string,
) {
  const named = m.namedParameters();
  assert.deepEqual(named.map(([n]) => n).toSorted(), Object.keys(expected).toSorted());
  for (const [n, v] of named) {
    await assertCloseAsync(grads[v.name], expected[n], `${what}: d/d ${n}`);
  }
}

// deno-lint-ignore no-explicit-any
type Fx = any;

Deno.test({
  name: "parity [webgpu] EncoderDecoder forward, label-smoothed loss and all gradients",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const fx: Fx = loadFixture("encoder_decoder");
    for (const name of ["pre_sinusoid", "post_learned", "pre_rope", "pre_alibi", "pre_none"]) {
      const c = fx[name];
      const m = encoderDecoderFromFixture(c);
      const src = tensor(c.inputs.src, "int32"), tgt = tensor(c.inputs.tgt, "int32");
      const tgtY = tensor(c.inputs.tgtY, "int32");
      const crit = new LabelSmoothing(c.vocab, 0, c.smoothing);
      let logp!: tf.Tensor;
      const vars = m.namedParameters().map(([, v]) => v);
      const { value, grads } = tf.variableGrads(() => {
        logp = tf.keep(m.generator.apply(m.forward(src, tgt, paddingMask(src), targetMask(tgt))));
        return crit.apply(logp, tgtY);
      }, vars);
      await assertCloseAsync(logp, c.outputs.logProbs, `${name}: log-probs`);
      await assertCloseAsync((await value.data())[0], c.outputs.loss, `${name}: loss`);
      await checkGrads(m, grads, c.paramGrads, name);
      tf.dispose([src, tgt, tgtY, logp, value, grads]);
      m.dispose();
    }
    await checkWebGPU();
  },
});

Deno.test({
  name: "parity [webgpu] GatedMultimodalUnit: h, gates and gradients (bi-, tri-, n-modal)",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const fx: Fx = loadFixture("gmu");
    for (const name of Object.keys(fx)) {
      const c = fx[name];
      const gmu = new GatedMultimodalUnit(c.inputDims, c.hiddenDim, new Rng(1), {
        nModal: c.nModal,
      });
      gmu.loadStateDict(c.state);
      const xs = (c.inputs.xs as Encoded[]).map((e) => tf.variable(tensor(e), true));
      const vars = [...xs, ...gmu.namedParameters().map(([, v]) => v)];
      const probeT = tensor(c.probe);
      let h!: tf.Tensor, gates!: tf.Tensor[];
      const { grads } = tf.variableGrads(() => {
        const out = gmu.apply(xs);
        h = tf.keep(out.h);
        gates = out.gates.map((g) => tf.keep(g));
        return tf.sum(tf.mul(out.h, probeT)) as tf.Scalar;
      }, vars);
      await assertCloseAsync(h, c.outputs.h, `${name}: h`);
      for (let i = 0; i < gates.length; i++) {
        await assertCloseAsync(gates[i], c.outputs.gates[i], `${name}: gate ${i}`);
      }
      for (let i = 0; i < xs.length; i++) {
        await assertCloseAsync(grads[xs[i].name], c.grads.xs[i], `${name}: d/d x${i}`);
      }
      await checkGrads(gmu, grads, c.paramGrads, name);
      tf.dispose([...xs, probeT, h, ...gates, grads]);
      gmu.dispose();
    }
    await checkWebGPU();
  },
});
