/**
 * The decoder-only Transformer: parity with its PyTorch twin
 * (tools/torch_reference.py → tests/fixtures/parity/decoder_only.json), log-
 * probabilities, the next-token loss and the gradient of every parameter
 * within 1e-5, on the wasm, cpu and default backends; causal masking; names.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../engine/rng.ts";
import { makeDecoderOnly } from "./decoder_only.ts";
import type { PositionalKind } from "./positional.ts";
import type { NormPlacement } from "./sublayer.ts";
import { assertClose, type Encoded, loadFixture, tensor } from "./parity_util.ts";

interface Case {
  N: number;
  dModel: number;
  dFF: number;
  h: number;
  vocab: number;
  norm: NormPlacement;
  positional: PositionalKind;
  maxLen: number;
  state: Record<string, Encoded>;
  inputs: { ids: Encoded; target: Encoded };
  outputs: { logProbs: Encoded; loss: number };
  paramGrads: Record<string, Encoded>;
}

const CASES = [
  "pre_sinusoid",
  "post_sinusoid",
  "pre_learned",
  "post_learned",
  "pre_none",
  "post_none",
  "pre_rope",
  "pre_alibi",
  "post_alibi",
];
const TOL = 1e-5;

function build(c: Case) {
  return makeDecoderOnly(c.vocab, {
    N: c.N,
    dModel: c.dModel,
    dFF: c.dFF,
    h: c.h,
    dropout: 0,
    positional: c.positional,
    maxLen: c.maxLen,
    norm: c.norm,
  }, new Rng(7));
}

for (const backend of ["wasm", "cpu", "auto"] as const) {
  Deno.test(`parity [${backend}] DecoderOnlyTransformer: log-probs, NLL, every gradient`, async () => {
    await selectBackend(backend);
    const fx = loadFixture<Record<string, Case>>("decoder_only");
    assert.deepEqual(Object.keys(fx).toSorted(), CASES.toSorted());
    for (const name of CASES) {
      tf.tidy(() => {
        const c = fx[name];
        const m = build(c);
        const names = m.namedParameters().map(([n]) => n);
        assert.deepEqual(names.toSorted(), Object.keys(c.state).toSorted(), `${name}: names`);
        m.loadStateDict(c.state);
        const ids = tensor(c.inputs.ids, "int32"), target = tensor(c.inputs.target, "int32");
        const vars = m.namedParameters().map(([, v]) => v);
        let logp!: tf.Tensor;
        const { value, grads } = tf.variableGrads(() => {
          logp = tf.keep(m.logProbs(ids));
          const picked = tf.sum(tf.mul(logp, tf.oneHot(target, c.vocab)), -1);
          return tf.neg(tf.mean(picked)) as tf.Scalar;
        }, vars);
        assertClose(logp, c.outputs.logProbs, `${name}: log-probs`, TOL, TOL);
        assertClose(value.dataSync()[0], c.outputs.loss, `${name}: loss`, TOL, TOL);
        m.namedParameters().forEach(([n, v]) =>
          assertClose(grads[v.name], c.paramGrads[n], `${name}: d/d ${n}`, TOL, TOL)
        );
        m.dispose();
      });
    }
  });
}

Deno.test("DecoderOnlyTransformer: a position's output does not depend on later tokens", async () => {
  await selectBackend("cpu");
  for (const positional of ["sinusoid", "learned", "none", "rope", "alibi"] as const) {
    for (const norm of ["pre", "post"] as const) {
      tf.tidy(() => {
        const m = makeDecoderOnly(
          13,
          { N: 2, dModel: 16, dFF: 24, h: 4, positional, norm },
          new Rng(3),
        )
          .eval();
        const a = [[3, 5, 7, 2, 9, 11, 4, 1]];
        const b = [[3, 5, 7, 2, 10, 0, 12, 6]]; // differs from position 4 on
        const la = m.logProbs(tf.tensor2d(a, undefined, "int32")).arraySync() as number[][][];
        const lb = m.logProbs(tf.tensor2d(b, undefined, "int32")).arraySync() as number[][][];
        for (let t = 0; t < 4; t++) {
          la[0][t].forEach((v, k) =>
            assert.ok(Math.abs(v - lb[0][t][k]) < 1e-6, `${positional}/${norm}: position ${t}`)
          );
        }
        // …and a later position does see its own and earlier changes.
        const diff = la[0][4].reduce((s, v, k) => s + Math.abs(v - lb[0][4][k]), 0);
        assert.ok(diff > 1e-3, `${positional}/${norm}: position 4 must depend on token 4`);
        m.dispose();
      });
    }
  }
});

Deno.test("DecoderOnlyTransformer: state-dict names, final norm only in pre-norm, learned table limit", async () => {
  await selectBackend("cpu");
  const pre = makeDecoderOnly(9, {
    N: 2,
    dModel: 8,
    dFF: 8,
    h: 2,
    positional: "learned",
    maxLen: 6,
  }, new Rng(1));
  const post = makeDecoderOnly(9, { N: 1, dModel: 8, dFF: 8, h: 2, norm: "post" }, new Rng(1));
  const names = pre.namedParameters().map(([n]) => n);
  for (
    const n of [
      "embed.0.lut.weight",
      "embed.1.pe.weight",
      "layers.1.self_attn.linears.3.weight",
      "layers.0.feed_forward.w_1.bias",
      "layers.0.sublayer.1.norm.a_2",
      "norm.a_2",
      "generator.proj.weight",
    ]
  ) assert.ok(names.includes(n), n);
  assert.ok(!post.namedParameters().some(([n]) => n.startsWith("norm.")));
  assert.equal(pre.attentionModules().length, 2);
  assert.equal(pre.positional.positionalMatrix(3)?.length, 3);
  assert.throws(
    () => pre.logProbs(tf.zeros([1, 7], "int32")),
    /past the learned table's maxLen 6/,
  );
  assert.doesNotThrow(() => tf.dispose(pre.logProbs(tf.zeros([1, 6], "int32"))));
  assert.throws(() => makeDecoderOnly(9, { N: 0 }, new Rng(1)), /at least one layer/);
  pre.dispose();
  post.dispose();
});
