/**
 * Helpers for the PyTorch parity tests: load a fixture written by
 * `tools/torch_reference.py`, turn its entries into tensors, compute the
 * gradients of the probe loss, and compare within a tolerance.
 * Not part of the public API.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { Rng } from "../util/rng.ts";
import { EncoderDecoder, makeModel } from "./encoder_decoder.ts";
import type { TensorData } from "./module.ts";
import type { NormPlacement } from "./sublayer.ts";
import type { PositionalKind } from "./positional.ts";

/** A tensor as the fixtures store it. */
export interface Encoded {
  shape: number[];
  data: number[];
}

/** Reads `tests/fixtures/parity/<name>.json`. */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  const url = new URL(`../../tests/fixtures/parity/${name}.json`, import.meta.url);
  try {
    return JSON.parse(Deno.readTextFileSync(url)) as T;
  } catch (e) {
    throw new Error(
      `parity fixture ${url.pathname} could not be read (${(e as Error).message}): ` +
        `regenerate with /usr/bin/python3 tools/torch_reference.py`,
    );
  }
}

/** A float32 (or int32) tensor from an encoded entry. */
export function tensor(e: Encoded, dtype: "float32" | "int32" = "float32"): tf.Tensor {
  return tf.tensor(e.data, e.shape, dtype);
}

/** A state dict entry map for `loadStateDict`. */
export function stateOf(s: Record<string, Encoded>): Record<string, TensorData> {
  return s;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, naming
 * the entry and the worst element on failure.
 */
export function assertClose(
  actual: tf.Tensor | number,
  expected: Encoded | number,
  what: string,
  atol = 1e-4,
  rtol = 1e-4,
): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual.dataSync());
  const e = typeof expected === "number" ? [expected] : expected.data;
  if (typeof actual !== "number" && typeof expected !== "number") {
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  }
  assert.equal(a.length, e.length, `${what}: size`);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - e[i]) - rtol * Math.abs(e[i]);
    if (!(err <= atol)) {
      if (worst < 0 || !(err <= worstErr)) [worst, worstErr] = [i, err];
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${a[worst]}, PyTorch gives ${e[worst]} ` +
        `(|diff| ${Math.abs(a[worst] - e[worst]).toExponential(2)} > ${atol} + ${rtol}·|ref|)`,
    );
  }
}

/**
 * Gradients of L = Σ f() ⊙ probe with respect to `inputs` (made variables
 * here) and `params`. Returns the output and the gradients in the same order.
 */
export function probeGrads(
  f: (inputs: tf.Tensor[]) => tf.Tensor,
  probe: Encoded,
  inputs: tf.Tensor[],
  params: tf.Variable[],
): { output: tf.Tensor; inputGrads: tf.Tensor[]; paramGrads: tf.Tensor[] } {
  const vars = inputs.map((x) => tf.variable(x, true));
  let output!: tf.Tensor;
  const p = tensor(probe);
  const { grads } = tf.variableGrads(() => {
    output = tf.keep(f(vars));
    return tf.sum(tf.mul(output, p)) as tf.Scalar;
  }, [...vars, ...params]);
  return {
    output,
    inputGrads: vars.map((v) => grads[v.name]),
    paramGrads: params.map((v) => grads[v.name]),
  };
}

/** An `encoder_decoder` fixture case: hyper-parameters and the PyTorch state dict. */
export interface EncoderDecoderCase {
  vocab: number;
  N: number;
  dModel: number;
  dFF: number;
  h: number;
  positional: string;
  maxLen: number;
  norm: NormPlacement;
  state: Record<string, TensorData>;
}

/** Builds the fixture case's EncoderDecoder (dropout 0) and loads its PyTorch weights. */
export function encoderDecoderFromFixture(c: EncoderDecoderCase): EncoderDecoder {
  const m = makeModel(c.vocab, c.vocab, {
    N: c.N,
    dModel: c.dModel,
    dFF: c.dFF,
    h: c.h,
    dropout: 0,
    positional: c.positional as PositionalKind,
    maxLen: c.maxLen,
    norm: c.norm,
  }, new Rng(4));
  m.loadStateDict(c.state);
  return m;
}
