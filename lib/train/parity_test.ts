/**
 * Parity of lib/train with the PyTorch reference: label smoothing (with and
 * without padding in the batch), the Noam rate, and Adam steps with a
 * per-step learning rate (torch.optim.Adam, betas (0.9, 0.98), eps 1e-9).
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { assertClose, loadFixture, tensor } from "../nn/parity_test_support.ts";
import { LabelSmoothing } from "../nn/label_smoothing.ts";
import { noamRate } from "./noam.ts";
import { Adam } from "./adam.ts";

// deno-lint-ignore no-explicit-any
type Fx = any;

for (const backend of ["wasm", "cpu", "auto"] as const) {
  Deno.test(`parity [${backend}] LabelSmoothing: KL(sum), padding rows and no-padding batch`, async () => {
    await selectBackend(backend);
    const fx: Fx = loadFixture("label_smoothing");
    for (const name of ["with_padding", "no_padding", "no_smoothing"]) {
      const c = fx[name];
      const crit = new LabelSmoothing(c.size, c.paddingIdx, c.smoothing);
      tf.tidy(() => {
        const target = tensor(c.inputs.target, "int32");
        assertClose(crit.trueDistribution(target), c.outputs.trueDist, `${name}: true dist`);
        const g = tf.valueAndGrad((x: tf.Tensor) => crit.apply(x, target));
        const { value, grad } = g(tensor(c.inputs.x));
        assertClose(value.dataSync()[0], c.outputs.loss, `${name}: loss`);
        assertClose(grad, c.grads.x, `${name}: d/dx`);
      });
    }
  });

  Deno.test(`parity [${backend}] Adam (Noam rate per step) and AdamW match torch.optim`, async () => {
    await selectBackend(backend);
    const fx: Fx = loadFixture("noam_adam");
    const a = fx.adam;
    const w = tf.variable(tensor(a.init.w)), b = tf.variable(tensor(a.init.b));
    const opt = new Adam([["w", w], ["b", b]], {
      beta1: a.betas[0],
      beta2: a.betas[1],
      epsilon: a.eps,
    });
    const before = tf.memory().numTensors;
    for (const [i, s] of (a.steps as Fx[]).entries()) {
      tf.tidy(() => opt.apply({ w: tensor(s.grads.w), b: tensor(s.grads.b) }, s.lr));
      assertClose(w, s.params.w, `step ${i + 1}: w`, 1e-5, 1e-5);
      assertClose(b, s.params.b, `step ${i + 1}: b`, 1e-5, 1e-5);
    }
    assert.equal(tf.memory().numTensors, before, "Adam.apply leaks no tensors");
    assert.equal(opt.step, a.steps.length);
    opt.dispose();
    w.dispose();
    b.dispose();

    const aw = fx.adamw;
    const w2 = tf.variable(tensor(aw.init.w));
    const optW = new Adam([["w", w2]], {
      beta1: aw.betas[0],
      beta2: aw.betas[1],
      epsilon: aw.eps,
      weightDecay: aw.weightDecay,
    });
    for (const [i, s] of (aw.steps as Fx[]).entries()) {
      tf.tidy(() => optW.apply({ w: tensor(s.grads.w) }, s.lr));
      assertClose(w2, s.params.w, `AdamW step ${i + 1}`, 1e-5, 1e-5);
    }
    optW.dispose();
    w2.dispose();
  });
}

Deno.test("parity: noamRate matches the reference formula (step 0 counts as 1)", () => {
  const fx: Fx = loadFixture("noam_adam");
  for (const key of ["noam512", "noam32"]) {
    const c = fx[key];
    for (const [step, rate] of Object.entries(c.rates as Record<string, number>)) {
      const mine = noamRate(Number(step), c.dModel, c.factor, c.warmup);
      assert.ok(
        Math.abs(mine - rate) <= 1e-12 * Math.max(1, rate),
        `${key} step ${step}: ${mine} vs ${rate}`,
      );
    }
  }
  // The peak is at the warmup step.
  assert.ok(noamRate(400, 32, 1, 400) > noamRate(399, 32, 1, 400));
  assert.ok(noamRate(400, 32, 1, 400) > noamRate(401, 32, 1, 400));
});
