import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { Rng } from "../util/rng.ts";
import { fusedAttentionFits, fusedAttentionWebGPU } from "../engine/webgpu/attention.ts";
import { dispatchCounters } from "../engine/webgpu/dispatch.ts";
import { attention, MultiHeadedAttention, setFusedAttention } from "./attention.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu attention tests: ${probe.why}`);

/** Deterministic values in [-2, 2) from a seed (a small LCG, independent of other tests). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

/** One attention call: sizes and a mask as plain data (1 = may attend). */
interface Case {
  name: string;
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  /** The mask's shape [B or 1, T_q or 1, T_k] and entries, or none. */
  mask?: { shape: [number, number, number]; keep: (b: number, i: number, j: number) => boolean };
  maskDtype?: "float32" | "int32" | "bool";
}

/** Key j of batch b is padding when j ≥ length(b). */
const padding = (lengths: number[]) => (b: number, _i: number, j: number) => j < lengths[b];
const causal = (_b: number, i: number, j: number) => j <= i;

const CASES: Case[] = [
  { name: "bench-like, no mask", b: 2, tq: 16, tk: 16, h: 8, d: 32 },
  {
    name: "odd sizes d=5 T=7, padding mask [B,1,T_k]",
    b: 3,
    tq: 7,
    tk: 7,
    h: 3,
    d: 5,
    mask: { shape: [3, 1, 7], keep: padding([7, 4, 1]) },
  },
  {
    name: "cross-attention T_q=5 T_k=9, a batch masked everywhere (bool mask)",
    b: 2,
    tq: 5,
    tk: 9,
    h: 2,
    d: 8,
    mask: { shape: [2, 1, 9], keep: padding([6, 0]) },
    maskDtype: "bool",
  },
  {
    name: "target mask [B,T_q,T_k]: padding and subsequent, with fully masked rows",
    b: 2,
    tq: 6,
    tk: 6,
    h: 2,
    d: 4,
    mask: {
      shape: [2, 6, 6],
      keep: (b, i, j) => causal(b, i, j) && !(b === 1 && i === 2) && j < 5 - b,
    },
  },
  {
    name: "subsequent mask [1,T,T] broadcast over the batch (int32 mask)",
    b: 3,
    tq: 9,
    tk: 9,
    h: 1,
    d: 3,
    mask: { shape: [1, 9, 9], keep: causal },
    maskDtype: "int32",
  },
  {
    name: "d=6 (a vec4 and two floats a row), T_q=5 T_k=7, no mask",
    b: 2,
    tq: 5,
    tk: 7,
    h: 3,
    d: 6,
  },
  {
    name: "d=6, target mask [B,T_q,T_k] with fully masked rows",
    b: 2,
    tq: 6,
    tk: 6,
    h: 2,
    d: 6,
    mask: {
      shape: [2, 6, 6],
      keep: (b, i, j) => causal(b, i, j) && !(b === 0 && i === 4) && j < 6 - 2 * b,
    },
  },
  {
    name: "d=32, subsequent mask [1,T,T]",
    b: 2,
    tq: 16,
    tk: 16,
    h: 4,
    d: 32,
    mask: { shape: [1, 16, 16], keep: causal },
  },
  { name: "d=64, cross-attention T_q=8 T_k=20, no mask", b: 1, tq: 8, tk: 20, h: 3, d: 64 },
  {
    name: "d=64, padding mask [B,1,T_k] with a batch masked everywhere (int32 mask)",
    b: 3,
    tq: 12,
    tk: 12,
    h: 2,
    d: 64,
    mask: { shape: [3, 1, 12], keep: padding([12, 5, 0]) },
    maskDtype: "int32",
  },
  {
    name: "d=160 (over the compiled head sizes: d from the uniforms), padding mask",
    b: 2,
    tq: 3,
    tk: 450,
    h: 2,
    d: 160,
    mask: { shape: [2, 1, 450], keep: padding([450, 200]) },
  },
  {
    name: "T_k=59990 keys, about as many loop iterations as a thread may run, d=4",
    b: 1,
    tq: 1,
    tk: 59990,
    h: 1,
    d: 4,
    mask: { shape: [1, 1, 59990], keep: padding([59000]) },
  },
  {
    name: "long rows T=512, d=128 (several workgroups), padding mask",
    b: 1,
    tq: 512,
    tk: 512,
    h: 1,
    d: 128,
    mask: { shape: [1, 1, 512], keep: padding([300]) },
  },
];

/** The case's q, k, v, a weight w for the loss Σ(out · w), and the mask. */
function inputs(c: Case) {
  const q = tf.tensor(values(c.b * c.tq * c.h * c.d, 1), [c.b, c.tq, c.h, c.d]);
  const k = tf.tensor(values(c.b * c.tk * c.h * c.d, 2), [c.b, c.tk, c.h, c.d]);
  const v = tf.tensor(values(c.b * c.tk * c.h * c.d, 3), [c.b, c.tk, c.h, c.d]);
  const w = tf.tensor(values(c.b * c.tq * c.h * c.d, 4), [c.b, c.tq, c.h, c.d]);
  let mask: tf.Tensor | undefined;
  if (c.mask) {
    const [mb, mi, mj] = c.mask.shape;
    const data: number[] = [];
    for (let b = 0; b < mb; b++) {
      for (let i = 0; i < mi; i++) {
        for (let j = 0; j < mj; j++) data.push(c.mask.keep(b, i, j) ? 1 : 0);
      }
    }
    mask = tf.tensor(data, c.mask.shape, c.maskDtype === "bool" ? "bool" : c.maskDtype);
  }
  return { q, k, v, w, mask };
}

/** The unfused formula of `lib/nn/attention.ts` on heads moved to axis 1, moved back. */
function formula(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  const heads = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1, 3]);
  const { output } = attention(heads(q), heads(k), heads(v), mask?.expandDims(1));
  return tf.transpose(output, [0, 2, 1, 3]);
}

type Attend = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: tf.Tensor) => tf.Tensor | null;

/** out, ∂q, ∂k, ∂v of Σ(out · w) by `attend`, read back as arrays. */
async function evaluate(c: Case, attend: Attend): Promise<number[][]> {
  const { q, k, v, w, mask } = inputs(c);
  const f = (qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor) => {
    const out = attend(qi, ki, vi, mask);
    if (!out) throw new Error("the fused path declined");
    return out;
  };
  const out = tf.tidy(() => f(q, k, v));
  const grads = tf.grads((qi, ki, vi) => tf.sum(tf.mul(f(qi, ki, vi), w)))([q, k, v]);
  const all = [out, ...grads];
  const read = await Promise.all(all.map((t) => t.data()));
  tf.dispose([q, k, v, w, ...all]);
  mask?.dispose();
  return read.map((d) => Array.from(d as Float32Array));
}

/**
 * Each entry within `rtol` of the reference, relative to the entry or, near 0,
 * to a tenth of the tensor's largest entry.
 */
function assertClose(
  got: number[][],
  want: number[][],
  what: string,
  names: string[],
  rtol = 1e-5,
) {
  got.forEach((g, t) => {
    assert.equal(g.length, want[t].length, `${what} ${names[t]} size`);
    const scale = want[t].reduce((m, x) => Math.max(m, Math.abs(x)), 1);
    g.forEach((x, i) => {
      const r = want[t][i];
      assert.ok(
        Math.abs(x - r) <= rtol * Math.max(Math.abs(r), 0.1 * scale),
        `${what} ${names[t]}[${i}]: webgpu ${x} vs reference ${r}`,
      );
    });
  });
}

/** 1e-5, more for long rows: float32 sums over T·d terms round in another order than the formula's. */
function tolerance(c: Case): number {
  return 1e-5 * Math.max(1, Math.sqrt(Math.max(c.tq, c.tk) * c.d) / 64);
}

Deno.test({
  name: "fused attention on webgpu: output and ∂q, ∂k, ∂v equal the tensor formula on cpu",
  ignore: !probe.ok || !!ciOnly,
  fn: async () => {
    await selectBackend("cpu");
    const want = [];
    for (const c of CASES) want.push(await evaluate(c, formula));
    await selectBackend("webgpu");
    for (const [n, c] of CASES.entries()) {
      const before = tf.memory().numTensors;
      const got = await evaluate(c, fusedAttentionWebGPU);
      assertClose(got, want[n], c.name, ["out", "∂q", "∂k", "∂v"], tolerance(c));
      assert.equal(tf.memory().numTensors, before, `${c.name}: no tensor left behind`);
    }
  },
});

Deno.test({
  name: "fused attention: a row masked everywhere is uniform over the keys, as in the formula",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const q = tf.tensor(values(2 * 3 * 4, 5), [1, 2, 3, 4]);
    const kv = tf.tensor(values(3 * 3 * 4, 6), [1, 3, 3, 4]);
    const mask = tf.tensor([[[1, 0, 1], [0, 0, 0]]]);
    const out = fusedAttentionWebGPU(q, kv, kv, mask)!;
    const got = (await out.array()) as number[][][][];
    const mean = (await tf.mean(kv, 1).array()) as number[][][];
    got[0][1].forEach((row, head) =>
      row.forEach((x, c) => assert.ok(Math.abs(x - mean[0][head][c]) < 1e-6))
    );
    tf.dispose([q, kv, mask, out]);
  },
});

Deno.test({
  name: "fused attention declines what it does not take: other backends, dtypes and mask shapes",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("cpu");
    const q = tf.zeros([1, 2, 2, 4]);
    assert.equal(fusedAttentionWebGPU(q, q, q), null, "not webgpu");
    q.dispose();
    await selectBackend("webgpu");
    const a = tf.zeros([2, 3, 2, 4]), kv = tf.zeros([2, 5, 2, 4]);
    // Rows too long for one thread: 60000 keys (d compiled in), 500 of d = 160 (d from the uniforms).
    const long = tf.zeros([1, 60000, 1, 4]), longWide = tf.zeros([1, 500, 1, 160]);
    const declines: [string, tf.Tensor[], tf.Tensor?][] = [
      ["int32 q", [tf.zeros([2, 3, 2, 4], "int32"), kv, kv]],
      ["rank-3 q", [tf.zeros([2, 3, 8]), kv, kv]],
      ["v of another length", [a, kv, tf.zeros([2, 4, 2, 4])]],
      ["mask of T_q keys", [a, kv, kv], tf.ones([2, 1, 3])],
      ["rank-4 mask", [a, kv, kv], tf.ones([2, 1, 3, 5])],
      ["mask of 3 batches", [a, kv, kv], tf.ones([3, 1, 5])],
      ["string mask", [a, kv, kv], tf.tensor([[["a", "b", "c", "d", "e"]]])],
      ["rows too long for one thread", [tf.zeros([1, 1, 1, 4]), long, long]],
      ["rows of d = 160 too long for one thread", [tf.zeros([1, 1, 1, 160]), longWide, longWide]],
    ];
    for (const [what, [q, k, v], mask] of declines) {
      assert.equal(fusedAttentionWebGPU(q, k, v, mask), null, what);
    }
    tf.dispose(declines.flatMap(([, qkv, m]) => (m ? [...qkv, m] : qkv)));
  },
});

Deno.test("fusedAttentionFits: one loop over the rows a thread, up to the loop bound", () => {
  // With d compiled in (d ≤ 128) a thread runs one loop over the other rows, d unrolled.
  assert.ok(fusedAttentionFits(1, 1, 59990, 1, 128));
  assert.ok(fusedAttentionFits(4, 59990, 59990, 1, 4));
  assert.ok(!fusedAttentionFits(1, 1, 60000, 1, 4));
  assert.ok(!fusedAttentionFits(1, 60000, 1, 1, 4));
  // Over it, the loops over d count too: about 129 iterations a row at d = 160.
  assert.ok(fusedAttentionFits(1, 1, 450, 1, 160));
  assert.ok(!fusedAttentionFits(1, 1, 500, 1, 160));
});

/**
 * The dispatches a run of `f` records on webgpu: the shader key of each TF.js
 * program, and "raw" for each of fuselab's own modules (as tools/device/profile.ts counts).
 */
function programsOf(f: () => void): string[] {
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  const original = backend.runWebGPUProgram;
  const keys: string[] = [];
  backend.runWebGPUProgram = function (program: { shaderKey: string }, ...rest: unknown[]) {
    keys.push(program.shaderKey);
    return original.call(this, program, ...rest);
  };
  const raw = dispatchCounters().rawDispatches;
  try {
    f();
  } finally {
    backend.runWebGPUProgram = original;
  }
  return [...keys, ...Array(dispatchCounters().rawDispatches - raw).fill("raw")];
}

/** A MultiHeadedAttention forward + backward: output and every parameter's gradient, and the programs. */
async function mhaStep(mha: MultiHeadedAttention, mask: tf.Tensor, fused: boolean) {
  const x = tf.tensor(values(2 * 6 * 16, 7), [2, 6, 16]);
  const mem = tf.tensor(values(2 * 4 * 16, 8), [2, 4, 16]);
  const w = tf.tensor(values(2 * 6 * 16, 9), [2, 6, 16]);
  const vars = mha.trainableParameters().map(([, p]) => p);
  setFusedAttention(fused);
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  try {
    const keys = programsOf(() => {
      result = tf.variableGrads(() => tf.sum(tf.mul(mha.apply(x, mem, mem, mask), w)), vars);
    });
    const { value, grads } = result!;
    const read = [
      await value.data(),
      ...(await Promise.all(vars.map((v) => grads[v.name].data()))),
    ];
    tf.dispose([x, mem, w, value, ...Object.values(grads)]);
    return { keys, read: read.map((d) => Array.from(d as Float32Array)) };
  } finally {
    setFusedAttention(true);
  }
}

Deno.test({
  name: "MultiHeadedAttention on webgpu: fused attention in 5 dispatches, far fewer in all, " +
    "same loss and gradients",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const mha = new MultiHeadedAttention(4, 16, 0, new Rng(11));
    const mask = tf.tensor([[[1, 1, 1, 0]], [[1, 1, 0, 0]]]);
    const before = tf.memory().numTensors;
    const fused = await mhaStep(mha, mask, true);
    const plain = await mhaStep(mha, mask, false);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    const ours = fused.keys.filter((k) => k.startsWith("fuselab_attention"));
    assert.equal(ours.length, 5, `one forward and four backward programs: ${ours}`);
    assert.equal(plain.keys.filter((k) => k.startsWith("fuselab_attention")).length, 0);
    assert.ok(
      fused.keys.length <= plain.keys.length - 15,
      `fused ${fused.keys.length} dispatches vs ${plain.keys.length} with the switch off`,
    );
    console.log(
      `MultiHeadedAttention forward + backward: ${fused.keys.length} dispatches fused, ` +
        `${plain.keys.length} unfused`,
    );
    const names = ["loss", ...mha.trainableParameters().map(([n]) => `∂${n}`)];
    assertClose(fused.read, plain.read, "MultiHeadedAttention", names);
    tf.dispose([mask]);
    mha.dispose();
  },
});

Deno.test({
  name: "MultiHeadedAttention keeps the tensor formula for RoPE, ALiBi, dropout while training, " +
    "recorded probabilities and other masks",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const x = tf.tensor(values(2 * 4 * 8, 10), [2, 4, 8]);
    const mask = tf.ones([2, 1, 4]);
    const count = (mha: MultiHeadedAttention, m?: tf.Tensor) =>
      programsOf(() => tf.tidy(() => mha.apply(x, x, x, m))).filter((k) =>
        k.startsWith("fuselab_attention")
      ).length;
    const make = (rate = 0, positional?: string) =>
      new MultiHeadedAttention(2, 8, rate, new Rng(3), { positional });
    const made: MultiHeadedAttention[] = [];
    const track = (mha: MultiHeadedAttention) => (made.push(mha), mha);
    assert.equal(count(track(make()), mask), 1, "the plain case is fused");
    assert.equal(count(track(make(0.1)).eval(), mask), 1, "dropout off outside training: fused");
    assert.equal(count(track(make(0.1)), mask), 0, "dropout while training");
    assert.equal(count(track(make(0, "rope")), mask), 0, "RoPE");
    assert.equal(count(track(make(0, "alibi")), mask), 0, "ALiBi");
    const recording = track(make());
    recording.recordAttention = true;
    assert.equal(count(recording, mask), 0, "recorded probabilities");
    recording.recordAttention = false;
    const wide = tf.ones([2, 1, 1]);
    assert.equal(count(track(make()), wide), 0, "a mask broadcast over the keys");
    setFusedAttention(false);
    try {
      assert.equal(count(track(make()), mask), 0, "switched off");
    } finally {
      setFusedAttention(true);
    }
    made.forEach((m) => m.dispose());
    tf.dispose([x, mask, wide]);
  },
});

Deno.test({
  name: "MultiHeadedAttention with rows too long for one thread takes the tensor formula: " +
    "the same output as on cpu",
  ignore: !probe.ok,
  fn: async () => {
    // d = 160 reads d from the uniforms; 500 of its rows exceed the loop bound.
    const x = values(500 * 160, 12);
    const run = async (keys?: string[]) => {
      const mha = new MultiHeadedAttention(1, 160, 0, new Rng(13));
      const input = tf.tensor(x, [1, 500, 160]);
      let out: tf.Tensor | undefined;
      const apply = () => out = tf.tidy(() => mha.apply(input, input, input));
      if (keys) keys.push(...programsOf(apply));
      else apply();
      const read = Array.from(await out!.data());
      tf.dispose([input, out!]);
      mha.dispose();
      return read;
    };
    await selectBackend("cpu");
    const want = await run();
    await selectBackend("webgpu");
    const keys: string[] = [];
    const got = await run(keys);
    assert.equal(keys.filter((k) => k.startsWith("fuselab_attention")).length, 0);
    assertClose([got], [want], "too long rows", ["out"], 1e-4);
  },
});
