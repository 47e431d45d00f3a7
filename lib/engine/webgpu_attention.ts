/**
 * Scaled dot-product attention on the webgpu backend in five dispatches (one
 * forward, four backward) instead of about twenty-five a layer: the formula
 * of `attention()` in `lib/nn/attention.ts` with its `maskedFill`, as TF.js
 * WebGPU programs that read q, k and v in the Linear layers' own layout
 * [B, T, h, d] (no head transposes) and write [B, T_q, h, d].
 *
 *   s_ij = q_i · k_j / √d, or −1e9 where the mask is 0 (a row masked
 *   everywhere is then uniform, as in the tensor formula),
 *   P_ij = exp(s_ij − m_i) / l_i,  m_i = max_j s_ij,  l_i = Σ_j exp(s_ij − m_i),
 *   o_i = Σ_j P_ij v_j.
 *
 * Forward: one thread a query row (b, i, head), one pass over the keys with
 * m_i and l_i kept up to date (the sum so far rescaled when m_i grows).
 * Backward (via `tf.customGrad`), with D_i = Σ_j P_ij ∂P_ij = ∂o_i · o_i and
 * ∂s_ij = P_ij (∂o_i · v_j − D_i) (0 where masked):
 * 1. per query row m_i, l_i and D_i;
 * 2. ∂q_i = Σ_j ∂s_ij k_j / √d, one thread a query row;
 * 3. ∂k_j = Σ_i ∂s_ij q_i / √d, one thread a key row (b, j, head);
 * 4. ∂v_j = Σ_i P_ij ∂o_i, one thread a key row.
 * P is recomputed from q and k where it is needed; nothing of size T_q × T_k
 * is ever stored.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { flatProgram } from "./webgpu_dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

type Kind = "forward" | "stats" | "dq" | "dk" | "dv";

/** Shader inputs of each program (the mask `M`, when there is one, comes last). */
const INPUTS: Record<Kind, string[]> = {
  forward: ["Q", "K", "V"],
  stats: ["Q", "K", "O", "DO"],
  dq: ["Q", "K", "V", "DO", "S"],
  dk: ["Q", "K", "V", "DO", "S"],
  dv: ["Q", "K", "DO", "S"],
};

const UNIFORMS = "tq : i32, tk : i32, h : i32, d : i32, rows : i32, maskB : i32, maskI : i32, " +
  "sqrtD : f32,";

/**
 * WGSL running `step(c)` for c = 0 … d − 1, four a loop iteration (then the
 * rest one at a time): a quarter of the iterations, see {@link MAX_ITERATIONS}.
 */
function overD(step: (c: string) => string): string {
  return `{
        var c = 0;
        for (; c + 4 <= uniforms.d; c += 4) {
          ${step("c")} ${step("c + 1")} ${step("c + 2")} ${step("c + 3")}
        }
        for (; c < uniforms.d; c++) { ${step("c")} }
      }`;
}

/** WGSL helpers shared by the programs; `attKeep` depends on whether there is a mask. */
function helpers(masked: boolean): string {
  const keep = masked
    ? "return f32(M[b * uniforms.maskB + i * uniforms.maskI + j]) != 0.0;"
    : "return true;";
  return `
    // Offset of row (b, t, head) in a [B, len, h, d] tensor.
    fn attRow(b : i32, t : i32, head : i32, len : i32) -> i32 {
      return ((b * len + t) * uniforms.h + head) * uniforms.d;
    }
    // Whether query i of batch b may attend to key j.
    fn attKeep(b : i32, i : i32, j : i32) -> bool {
      ${keep}
    }
    // q · k / √d, or −1e9 where masked (maskedFill's value).
    fn attScore(qo : i32, ko : i32, kept : bool) -> f32 {
      if (!kept) { return -1e9; }
      var s = 0.0;
      ${overD((c) => `s += Q[qo + ${c}] * K[ko + ${c}];`)}
      return s / uniforms.sqrtD;
    }
    // (m, l) of query row (b, i, head): the largest score and Σ_j exp(s_j − m), in one pass.
    fn attStats(b : i32, i : i32, head : i32, qo : i32) -> vec2<f32> {
      var m = -3.4e38;
      var l = 0.0;
      for (var j = 0; j < uniforms.tk; j++) {
        let s = attScore(qo, attRow(b, j, head, uniforms.tk), attKeep(b, i, j));
        let mNew = max(m, s);
        l = l * exp(m - mNew) + exp(s - mNew);
        m = mNew;
      }
      return vec2<f32>(m, l);
    }
  `;
}

/** Splits the thread's row index into b, t, head (t over `len`) and its offset o. */
const ROW_COORDS = (len: string) => `
      let head = index % uniforms.h;
      let bt = index / uniforms.h;
      let t = bt % uniforms.${len};
      let b = bt / uniforms.${len};
      let o = index * uniforms.d;`;

/** The thread's output row set to 0, for the sums that follow. */
const ZERO_ROW = overD((c) => `result[o + ${c}] = 0.0;`);

/** ∂s of query row r and key offset ko: P (∂o_r · v − D_r), with qo the row's offset. */
const D_SCORE = `
        let p = exp(attScore(qo, ko, true) - S[3 * r]) / S[3 * r + 1];
        var dp = 0.0;
        ${overD((c) => `dp += DO[qo + ${c}] * V[ko + ${c}];`)}
        let ds = p * (dp - S[3 * r + 2]);`;

const BODY: Record<Kind, string> = {
  // Query row: o = Σ_j exp(s_j − m) v_j / l, m and l kept up to date as the
  // keys go by (the sum so far rescaled by exp(m_old − m_new) when m grows).
  forward: `${ROW_COORDS("tq")}
      ${ZERO_ROW}
      var m = -3.4e38;
      var l = 0.0;
      for (var j = 0; j < uniforms.tk; j++) {
        let ko = attRow(b, j, head, uniforms.tk);
        let s = attScore(o, ko, attKeep(b, t, j));
        let mNew = max(m, s);
        let rescale = exp(m - mNew);
        let e = exp(s - mNew);
        m = mNew;
        l = l * rescale + e;
        ${overD((c) => `result[o + ${c}] = result[o + ${c}] * rescale + e * V[ko + ${c}];`)}
      }
      ${overD((c) => `result[o + ${c}] /= l;`)}`,
  // Query row: m, l and D = ∂o · o.
  stats: `${ROW_COORDS("tq")}
      let ml = attStats(b, t, head, o);
      var dd = 0.0;
      ${overD((c) => `dd += DO[o + ${c}] * O[o + ${c}];`)}
      result[3 * index] = ml.x;
      result[3 * index + 1] = ml.y;
      result[3 * index + 2] = dd;`,
  // Query row: ∂q = Σ_j ∂s_j k_j / √d over the keys it may attend to.
  dq: `${ROW_COORDS("tq")}
      ${ZERO_ROW}
      let r = index;
      let qo = o;
      for (var j = 0; j < uniforms.tk; j++) {
        if (!attKeep(b, t, j)) { continue; }
        let ko = attRow(b, j, head, uniforms.tk);
        ${D_SCORE}
        ${overD((c) => `result[o + ${c}] += ds * K[ko + ${c}];`)}
      }
      ${overD((c) => `result[o + ${c}] /= uniforms.sqrtD;`)}`,
  // Key row: ∂k = Σ_i ∂s_i q_i / √d over the queries that may attend to it.
  dk: `${ROW_COORDS("tk")}
      ${ZERO_ROW}
      let ko = o;
      for (var i = 0; i < uniforms.tq; i++) {
        if (!attKeep(b, i, t)) { continue; }
        let r = (b * uniforms.tq + i) * uniforms.h + head;
        let qo = r * uniforms.d;
        ${D_SCORE}
        ${overD((c) => `result[o + ${c}] += ds * Q[qo + ${c}];`)}
      }
      ${overD((c) => `result[o + ${c}] /= uniforms.sqrtD;`)}`,
  // Key row: ∂v = Σ_i P_i ∂o_i over every query (a row masked everywhere included).
  dv: `${ROW_COORDS("tk")}
      ${ZERO_ROW}
      for (var i = 0; i < uniforms.tq; i++) {
        let r = (b * uniforms.tq + i) * uniforms.h + head;
        let qo = r * uniforms.d;
        let p = exp(attScore(qo, o, attKeep(b, i, t)) - S[3 * r]) / S[3 * r + 1];
        ${overD((c) => `result[o + ${c}] += p * DO[qo + ${c}];`)}
      }`,
};

/**
 * Loop iterations one thread may run in all. Mesa's llvmpipe (the software
 * adapter) ends every loop of a shader invocation once the invocation has run
 * 65535 iterations in total, silently, so longer rows would give wrong
 * numbers there; calls whose estimate ({@link loopIterations}) exceeds this
 * bound, which leaves a margin, take the tensor formula on every adapter.
 */
const MAX_ITERATIONS = 60000;

/** An estimate (from above) of the loop iterations of one thread of any of the programs. */
function loopIterations(tq: number, tk: number, d: number): number {
  // One pass over a row of d, as overD runs it, exits included.
  const overRow = Math.floor(d / 4) + (d % 4) + 2;
  return Math.max(tq, tk) * (3 * overRow + 3) + 4 * overRow + 8;
}

/** Sizes of one attention call, as the shaders read them from their uniforms. */
interface Dims {
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  /** Mask strides over the batch and the query axis (0 where the mask broadcasts). */
  maskB: number;
  maskI: number;
}

const WORKGROUP = 64;

/**
 * A TF.js program for `kind` with `threads` threads (one a row; the
 * output's other elements are written by those threads). TF.js spreads a
 * dispatch over more dimensions itself when one is not enough.
 */
function attentionProgram(
  kind: Kind,
  masked: boolean,
  outputShape: number[],
  threads: number,
): Record<string, unknown> {
  const base = flatProgram({
    key: `fuselab_attention_${kind}${masked ? "_masked" : ""}`,
    inputs: masked ? [...INPUTS[kind], "M"] : INPUTS[kind],
    outputShape,
    uniforms: UNIFORMS,
    body: "",
    workgroup: WORKGROUP,
  });
  return {
    ...base,
    dispatch: [Math.ceil(threads / WORKGROUP), 1, 1],
    getUserCode: () => `
      ${helpers(masked)}
      fn main(index : i32) {
        if (index < uniforms.rows) {
          ${BODY[kind]}
        }
      }
    `,
  };
}

/** Whether `t` is a rank-4 float32 tensor [b, len, h, d] for some len. */
function isRows(t: tf.Tensor, b: number, h: number, d: number): boolean {
  return t.dtype === "float32" && t.rank === 4 && t.shape[0] === b && t.shape[2] === h &&
    t.shape[3] === d;
}

/** The sizes of a call, or null where the fused programs do not apply. */
function attentionDims(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  keep: tf.Tensor | undefined,
): Dims | null {
  if (q.rank !== 4) return null;
  const [b, tq, h, d] = q.shape;
  const tk = k.shape[1]!;
  if (!isRows(q, b, h, d) || !isRows(k, b, h, d) || !isRows(v, b, h, d)) return null;
  if (v.shape[1] !== tk || !fusedAttentionFits(b, tq, tk, h, d, keep)) return null;
  if (!keep) return { b, tq, tk, h, d, maskB: 0, maskI: 0 };
  const [mb, mi] = keep.shape;
  return { b, tq, tk, h, d, maskB: mb === 1 ? 0 : mi * tk, maskI: mi === 1 ? 0 : tk };
}

/**
 * Whether {@link fusedAttentionWebGPU} takes float32 q [b, tq, h, d], k and v
 * [b, tk, h, d] and the mask `keep`: no mask, or [b or 1, tq or 1, tk] of
 * float32, int32 or bool; rows short enough for one thread
 * ({@link MAX_ITERATIONS}).
 */
export function fusedAttentionFits(
  b: number,
  tq: number,
  tk: number,
  h: number,
  d: number,
  keep?: tf.Tensor,
): boolean {
  const size = b * Math.max(tq, tk) * h * d;
  if (size === 0 || size >= 2 ** 31 / 4) return false;
  if (loopIterations(tq, tk, d) > MAX_ITERATIONS) return false;
  if (!keep) return true;
  if (keep.rank !== 3 || !["float32", "int32", "bool"].includes(keep.dtype)) return false;
  const [mb, mi, mj] = keep.shape;
  return (mb === 1 || mb === b) && (mi === 1 || mi === tq) && mj === tk;
}

/** Runs one attention program; `rows` is the number of threads that work. */
type Runner = (kind: Kind, shape: number[], rows: number, inputs: tf.Tensor[]) => tf.Tensor;

/** A {@link Runner} on `backend` for the sizes `dims`, with the mask appended when there is one. */
function runner(backend: AnyBackend, dims: Dims, keep: tf.Tensor | undefined): Runner {
  return (kind, shape, rows, inputs) => {
    const uniforms = [
      ...[dims.tq, dims.tk, dims.h, dims.d, rows, dims.maskB, dims.maskI].map((x) => ({
        type: "int32",
        data: [x],
      })),
      { type: "float32", data: [Math.sqrt(dims.d)] },
    ];
    const program = attentionProgram(kind, keep !== undefined, shape, rows);
    const all = keep ? [...inputs, keep] : inputs;
    return tf.engine().makeTensorFromTensorInfo(
      backend.runWebGPUProgram(program, all, "float32", uniforms),
    );
  };
}

/**
 * softmax(q kᵀ / √d, masked scores −1e9) · v per batch and head, on webgpu:
 * q [B, T_q, h, d], k and v [B, T_k, h, d] (the Linear outputs reshaped, no
 * transposes), `keep` (1 or true = may attend; float32, int32 or bool)
 * [B or 1, T_q or 1, T_k] or none. Returns [B, T_q, h, d], or `null` where
 * this does not apply (not webgpu, not float32, other shapes), so the caller
 * takes the tensor formula. Differentiable w.r.t. q, k and v (not the mask).
 */
export function fusedAttentionWebGPU(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  keep?: tf.Tensor,
): tf.Tensor | null {
  if (tf.getBackend() !== "webgpu") return null;
  const backend = tf.backend() as AnyBackend;
  if (typeof backend.runWebGPUProgram !== "function") return null;
  const dims = attentionDims(q, k, v, keep);
  if (!dims) return null;
  const run = runner(backend, dims, keep);
  const queryRows = dims.b * dims.tq * dims.h, keyRows = dims.b * dims.tk * dims.h;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const out = run("forward", qi.shape, queryRows, [qi, ki, vi]);
    // The mask is saved too: it may be disposed before the backward pass runs.
    save(keep ? [qi, ki, vi, out, keep] : [qi, ki, vi, out]);
    return {
      value: out,
      gradFunc: (dout: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, so, sm] = saved;
        const grads = runner(backend, dims, sm);
        const stats = grads("stats", [...sq.shape.slice(0, 3), 3], queryRows, [sq, sk, so, dout]);
        const dq = grads("dq", sq.shape, queryRows, [sq, sk, sv, dout, stats]);
        const dk = grads("dk", sk.shape, keyRows, [sq, sk, sv, dout, stats]);
        const dv = grads("dv", sv.shape, keyRows, [sq, sk, dout, stats]);
        stats.dispose();
        return [dq, dk, dv];
      },
    };
  });
  return op(q, k, v) as tf.Tensor;
}
