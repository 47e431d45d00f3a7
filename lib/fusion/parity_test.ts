/**
 * Parity of the Gated Multimodal Unit with the PyTorch reference: bimodal
 * (one gate), trimodal (a gate per modality) and the forced n-modal form for
 * two inputs; h, the gates, and gradients for inputs and weights.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { assertClose, type Encoded, loadFixture, tensor } from "../nn/parity_test_support.ts";
import { GatedMultimodalUnit } from "./gmu.ts";

// deno-lint-ignore no-explicit-any
type Fx = any;

for (const backend of ["wasm", "cpu", "auto"] as const) {
  Deno.test(`parity [${backend}] GatedMultimodalUnit bimodal, trimodal, forced n-modal`, async () => {
    await selectBackend(backend);
    const fx: Fx = loadFixture("gmu");
    for (const name of ["bimodal", "trimodal", "bimodal_nmodal"]) {
      const c = fx[name];
      const gmu = new GatedMultimodalUnit(c.inputDims, c.hiddenDim, new Rng(1), {
        nModal: c.nModal,
      });
      gmu.loadStateDict(c.state);
      tf.tidy(() => {
        const xs = (c.inputs.xs as Encoded[]).map((e) => tf.variable(tensor(e)));
        const params = gmu.namedParameters();
        let out!: { h: tf.Tensor; gates: tf.Tensor[] };
        const { grads } = tf.variableGrads(() => {
          out = gmu.apply(xs);
          out = { h: tf.keep(out.h), gates: out.gates.map((g) => tf.keep(g)) };
          return tf.sum(tf.mul(out.h, tensor(c.probe))) as tf.Scalar;
        }, [...xs, ...params.map(([, v]) => v)]);
        assertClose(out.h, c.outputs.h, `${name}: h`);
        assert.equal(out.gates.length, c.outputs.gates.length, `${name}: number of gates`);
        out.gates.forEach((g, i) => assertClose(g, c.outputs.gates[i], `${name}: gate ${i}`));
        xs.forEach((x, i) => assertClose(grads[x.name], c.grads.xs[i], `${name}: d/d x_${i}`));
        assert.deepEqual(
          params.map(([n]) => n).toSorted(),
          Object.keys(c.paramGrads).toSorted(),
          `${name}: parameter names`,
        );
        for (const [n, v] of params) {
          assertClose(grads[v.name], c.paramGrads[n], `${name}: d/d ${n}`);
        }
        xs.forEach((x) => x.dispose());
      });
      gmu.dispose();
    }
  });
}
