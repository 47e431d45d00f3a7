/**
 * Parity of lib/nn with the independent PyTorch reference
 * (tools/torch_reference.py → tests/fixtures/parity/*.json): outputs and
 * gradients with respect to inputs and every parameter, within 1e-4, on the
 * wasm backend, the cpu backend and the default (auto) backend.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import {
  alibiBias,
  alibiSlopes,
  applyRope,
  attention,
  Decoder,
  DecoderLayer,
  Encoder,
  EncoderLayer,
  LayerNorm,
  LearnedPositionalEncoding,
  type Module,
  MultiHeadedAttention,
  paddingMask,
  PositionalEncoding,
  PositionwiseFeedForward,
  SublayerConnection,
  targetMask,
} from "./mod.ts";
import { LabelSmoothing } from "./label_smoothing.ts";
import {
  assertClose,
  type Encoded,
  encoderDecoderFromFixture,
  loadFixture,
  probeGrads,
  tensor,
} from "./parity_test_support.ts";

// deno-lint-ignore no-explicit-any
type Fx = any;

function checkParamGrads(
  m: Module,
  grads: tf.Tensor[],
  expected: Record<string, Encoded>,
  what: string,
) {
  const names = m.namedParameters().map(([n]) => n);
  assert.deepEqual(names.toSorted(), Object.keys(expected).toSorted(), `${what}: parameter names`);
  names.forEach((n, i) => assertClose(grads[i], expected[n], `${what}: d/d ${n}`));
}

function params(m: Module): tf.Variable[] {
  return m.namedParameters().map(([, v]) => v);
}

for (const backend of ["wasm", "cpu", "auto"] as const) {
  const test = (name: string, fn: () => void) =>
    Deno.test(`parity [${backend}] ${name}`, async () => {
      await selectBackend(backend);
      tf.tidy(fn);
    });

  test("scaled dot-product attention with padding and subsequent masks", () => {
    const fx: Fx = loadFixture("attention");
    for (const kind of ["padding", "subsequent"]) {
      const c = fx[kind];
      let probs!: tf.Tensor;
      const { output, inputGrads } = probeGrads(
        ([q, k, v]) => {
          const r = attention(q, k, v, tensor(c.inputs.mask));
          probs = tf.keep(r.probs);
          return r.output;
        },
        c.probe,
        [tensor(c.inputs.query), tensor(c.inputs.key), tensor(c.inputs.value)],
        [],
      );
      assertClose(output, c.outputs.output, `${kind}: output`);
      assertClose(probs, c.outputs.probs, `${kind}: probs`);
      ["query", "key", "value"].forEach((n, i) =>
        assertClose(inputGrads[i], c.grads[n], `${kind}: d/d ${n}`)
      );
    }
  });

  test("MultiHeadedAttention: self, cross, RoPE, ALiBi (h = 4 and h = 3)", () => {
    const fx: Fx = loadFixture("mha");
    for (const name of ["self", "cross", "rope", "alibi", "alibi3"]) {
      const c = fx[name];
      const m = new MultiHeadedAttention(c.h, c.dModel, 0, new Rng(1), {
        positional: c.positional,
      });
      m.loadStateDict(c.state);
      m.recordAttention = true;
      const mask = tensor(c.inputs.mask);
      const inputs = [tensor(c.inputs.query)];
      if (c.inputs.key) inputs.push(tensor(c.inputs.key));
      const { output, inputGrads, paramGrads } = probeGrads(
        ([q, kv]) => m.apply(q, kv ?? q, kv ?? q, mask),
        c.probe,
        inputs,
        params(m),
      );
      assertClose(output, c.outputs.output, `${name}: output`);
      assertClose(tf.tensor(m.lastAttention!), c.outputs.probs, `${name}: attention probs`);
      assertClose(inputGrads[0], c.grads.query, `${name}: d/d query`);
      if (c.inputs.key) assertClose(inputGrads[1], c.grads.key, `${name}: d/d key`);
      checkParamGrads(m, paramGrads, c.paramGrads, name);
      m.dispose();
    }
    for (const [h, slopes] of Object.entries(fx.alibiSlopes as Record<string, number[]>)) {
      const mine = alibiSlopes(Number(h));
      assert.equal(mine.length, slopes.length);
      mine.forEach((s, i) => assert.ok(Math.abs(s - slopes[i]) < 1e-12, `ALiBi slope h=${h}`));
    }
  });

  test("LayerNorm (unbiased std, eps on the std)", () => {
    const fx: Fx = loadFixture("layer_norm");
    const m = new LayerNorm(6);
    m.loadStateDict(fx.state);
    const r = probeGrads(([x]) => m.apply(x), fx.probe, [tensor(fx.inputs.x)], params(m));
    assertClose(r.output, fx.outputs.y, "LayerNorm output");
    assertClose(r.inputGrads[0], fx.grads.x, "LayerNorm d/dx");
    checkParamGrads(m, r.paramGrads, fx.paramGrads, "LayerNorm");
    m.dispose();
  });

  test("SublayerConnection pre-norm and post-norm", () => {
    const fx: Fx = loadFixture("sublayer");
    for (const placement of ["pre", "post"] as const) {
      const c = fx[placement];
      const s = new SublayerConnection(6, 0, new Rng(1), placement);
      const ff = new PositionwiseFeedForward(6, 10, 0, new Rng(2));
      s.loadStateDict(c.state);
      ff.loadStateDict(c.ffState);
      const r = probeGrads(
        ([x]) => s.apply(x, (z) => ff.apply(z)),
        c.probe,
        [tensor(c.inputs.x)],
        [...params(s), ...params(ff)],
      );
      assertClose(r.output, c.outputs.y, `${placement}: output`);
      assertClose(r.inputGrads[0], c.grads.x, `${placement}: d/dx`);
      checkParamGrads(s, r.paramGrads.slice(0, 2), c.paramGrads, `${placement} norm`);
      checkParamGrads(ff, r.paramGrads.slice(2), c.ffGrads, `${placement} feed-forward`);
      s.dispose();
      ff.dispose();
    }
  });

  test("EncoderLayer and DecoderLayer, pre-norm and post-norm", () => {
    const fx: Fx = loadFixture("layers");
    const rng = new Rng(3);
    for (const norm of ["pre", "post"] as const) {
      const e = fx[`encoder_${norm}`];
      const enc = new EncoderLayer(
        8,
        new MultiHeadedAttention(2, 8, 0, rng),
        new PositionwiseFeedForward(8, 12, 0, rng),
        0,
        rng,
        norm,
      );
      enc.loadStateDict(e.state);
      const mask = tensor(e.inputs.mask);
      const r = probeGrads(([x]) => enc.apply(x, mask), e.probe, [tensor(e.inputs.x)], params(enc));
      assertClose(r.output, e.outputs.y, `encoder ${norm}: output`);
      assertClose(r.inputGrads[0], e.grads.x, `encoder ${norm}: d/dx`);
      checkParamGrads(enc, r.paramGrads, e.paramGrads, `encoder ${norm}`);
      enc.dispose();

      const d = fx[`decoder_${norm}`];
      const dec = new DecoderLayer(
        8,
        new MultiHeadedAttention(2, 8, 0, rng),
        new MultiHeadedAttention(2, 8, 0, rng),
        new PositionwiseFeedForward(8, 12, 0, rng),
        0,
        rng,
        norm,
      );
      dec.loadStateDict(d.state);
      const srcMask = tensor(d.inputs.srcMask), tgtMask = tensor(d.inputs.tgtMask);
      const r2 = probeGrads(
        ([x, mem]) => dec.apply(x, mem, srcMask, tgtMask),
        d.probe,
        [tensor(d.inputs.x), tensor(d.inputs.memory)],
        params(dec),
      );
      assertClose(r2.output, d.outputs.y, `decoder ${norm}: output`);
      assertClose(r2.inputGrads[0], d.grads.x, `decoder ${norm}: d/dx`);
      assertClose(r2.inputGrads[1], d.grads.memory, `decoder ${norm}: d/d memory`);
      checkParamGrads(dec, r2.paramGrads, d.paramGrads, `decoder ${norm}`);
      dec.dispose();
    }
  });

  test("EncoderDecoder forward, label-smoothed loss and all parameter gradients", () => {
    const fx: Fx = loadFixture("encoder_decoder");
    for (const name of ["pre_sinusoid", "post_learned", "pre_rope", "pre_alibi", "pre_none"]) {
      const c = fx[name];
      const m = encoderDecoderFromFixture(c);
      const src = tensor(c.inputs.src, "int32"), tgt = tensor(c.inputs.tgt, "int32");
      const tgtY = tensor(c.inputs.tgtY, "int32");
      const crit = new LabelSmoothing(c.vocab, 0, c.smoothing);
      let logp!: tf.Tensor;
      const vars = params(m);
      const { value, grads } = tf.variableGrads(() => {
        logp = tf.keep(
          m.generator.apply(m.forward(src, tgt, paddingMask(src), targetMask(tgt))),
        );
        return crit.apply(logp, tgtY);
      }, vars);
      assertClose(logp, c.outputs.logProbs, `${name}: log-probs`);
      assertClose(value.dataSync()[0], c.outputs.loss, `${name}: loss`);
      checkParamGrads(m, vars.map((v) => grads[v.name]), c.paramGrads, name);
      m.dispose();
    }
  });

  test("positional encodings: sinusoid, learned, RoPE, ALiBi", () => {
    const fx: Fx = loadFixture("positional");
    const s = fx.sinusoid;
    const pe = new PositionalEncoding(s.dModel, 0, new Rng(1));
    assertClose(tf.tensor(pe.table(s.len)), s.table, "sinusoid table");
    assertClose(pe.apply(tensor(s.inputs.x)), s.outputs.y, "sinusoid x + PE");

    const l = fx.learned;
    const lpe = new LearnedPositionalEncoding(l.maxLen, l.dModel, new Rng(1));
    lpe.loadStateDict(l.state);
    const r = probeGrads(([x]) => lpe.apply(x), l.probe, [tensor(l.inputs.x)], params(lpe));
    assertClose(r.output, l.outputs.y, "learned x + table");
    assertClose(r.inputGrads[0], l.grads.x, "learned d/dx");
    checkParamGrads(lpe, r.paramGrads, l.paramGrads, "learned");
    lpe.dispose();

    assertClose(applyRope(tensor(fx.rope.inputs.x)), fx.rope.outputs.y, "RoPE rotation");
    assertClose(alibiBias(fx.alibi.h, fx.alibi.len, fx.alibi.len), fx.alibi.bias, "ALiBi bias");
  });
}

Deno.test("Encoder/Decoder stacks: post-norm has no final norm, pre-norm has one", () => {
  const rng = new Rng(5);
  const layer = (norm: "pre" | "post") =>
    new EncoderLayer(
      8,
      new MultiHeadedAttention(2, 8, 0, rng),
      new PositionwiseFeedForward(8, 8, 0, rng),
      0,
      rng,
      norm,
    );
  const pre = new Encoder([layer("pre")]);
  const post = new Encoder([layer("post")]);
  assert.ok(pre.namedParameters().some(([n]) => n === "norm.a_2"));
  assert.ok(!post.namedParameters().some(([n]) => n === "norm.a_2"));
  const dl = new DecoderLayer(
    8,
    new MultiHeadedAttention(2, 8, 0, rng),
    new MultiHeadedAttention(2, 8, 0, rng),
    new PositionwiseFeedForward(8, 8, 0, rng),
    0,
    rng,
    "post",
  );
  assert.ok(!new Decoder([dl]).namedParameters().some(([n]) => n === "norm.a_2"));
  [pre, post].forEach((m) => m.dispose());
  dl.dispose();
});
