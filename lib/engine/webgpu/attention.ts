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
 * Each thread keeps its own rows (q, or k and v, and ∂o where it needs it)
 * and its output row in private variables and writes the output once, at the
 * end: the head size d is compiled into the shaders (one pipeline per d), the
 * loops over d are unrolled here in TypeScript, and rows are bound as
 * `vec4<f32>` when d is a multiple of 4 ({@link RowLayout}). Head sizes over
 * {@link MAX_COMPILED_D} take shaders that read d from the uniforms and sum
 * in the output buffer instead (slow, but without a register file's worth of
 * variables a thread).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { flatProgram } from "./dispatch.ts";

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

/** The inputs made of rows of d floats (bound as `vec4<f32>` where {@link RowLayout} says so). */
const ROW_INPUTS = new Set(["Q", "K", "V", "O", "DO"]);

const UNIFORMS = "tq : i32, tk : i32, h : i32, d : i32, rows : i32, maskB : i32, maskI : i32, " +
  "sqrtD : f32,";

/**
 * The largest head size compiled into the shaders. Beyond it a thread's rows
 * (three of d floats in ∂q and ∂k) would far outgrow a GPU thread's registers.
 */
const MAX_COMPILED_D = 128;

/**
 * WGSL helpers shared by the programs: the offset of a row, with `stride`
 * shader array elements a row, and `attKeep`, which depends on whether there
 * is a mask.
 */
function helpers(masked: boolean, stride: string): string {
  const keep = masked
    ? "return f32(M[b * uniforms.maskB + i * uniforms.maskI + j]) != 0.0;"
    : "return true;";
  return `
    // Offset of row (b, t, head) in a [B, len, h, d] tensor.
    fn attRow(b : i32, t : i32, head : i32, len : i32) -> i32 {
      return ((b * len + t) * uniforms.h + head) * ${stride};
    }
    // Whether query i of batch b may attend to key j.
    fn attKeep(b : i32, i : i32, j : i32) -> bool {
      ${keep}
    }
    // The sum of v's components.
    fn attSum4(v : vec4<f32>) -> f32 {
      return (v.x + v.y) + (v.z + v.w);
    }
  `;
}

/** Splits the thread's row index into b, t, head (t over `len`) and its offset o. */
const ROW_COORDS = (len: string, stride: string) => `
      let head = index % uniforms.h;
      let bt = index / uniforms.h;
      let t = bt % uniforms.${len};
      let b = bt / uniforms.${len};
      let o = index * ${stride};`;

// ---------------------------------------------------------------------------
// Shaders with d compiled in: rows in private variables, loops over d unrolled.

/** Four floats of a row (a `vec4<f32>`) or one, at `at` in its shader array's elements. */
interface Piece {
  four: boolean;
  at: number;
}

/**
 * How a shader with d compiled in binds and holds a row of d floats: the
 * rows' arrays bound as `vec4<f32>` when d is a multiple of 4, else as f32;
 * a row held as ⌊d / 4⌋ `vec4<f32>` variables (built from four loads when
 * the array is of f32) and the rest, d mod 4, as f32 variables.
 */
interface RowLayout {
  /** Whether the row arrays (and the output, but for the stats) are `array<vec4<f32>>`. */
  vec: boolean;
  /** Shader array elements a row: d / 4 bound as vec4, else d. */
  stride: number;
  pieces: Piece[];
}

/** The {@link RowLayout} of head size d. */
function rowLayout(d: number): RowLayout {
  const vec = d % 4 === 0, fours = Math.floor(d / 4);
  const pieces: Piece[] = [];
  for (let p = 0; p < fours; p++) pieces.push({ four: true, at: vec ? p : 4 * p });
  for (let c = 4 * fours; c < d; c++) pieces.push({ four: false, at: c });
  return { vec, stride: vec ? fours : d, pieces };
}

/** A row as WGSL: the expression of its piece i. */
type Row = (i: number) => string;

const XYZW = ["x", "y", "z", "w"];

/** The variables name0, name1, … of a row. */
const named = (name: string): Row => (i) => `${name}${i}`;

/** The row at offset o of the shader array `array`, read from memory. */
function stored(L: RowLayout, array: string, o: string): Row {
  return (i) => {
    const p = L.pieces[i];
    if (L.vec || !p.four) return `${array}[${o} + ${p.at}]`;
    const loads = XYZW.map((_, c) => `${array}[${o} + ${p.at + c}]`);
    return `vec4<f32>(${loads.join(", ")})`;
  };
}

/** A row of zeros. */
const zeros = (L: RowLayout): Row => (i) => L.pieces[i].four ? "vec4<f32>(0.0)" : "0.0";

/** Declarations `let name_i = row_i;` (or `var`) of every piece. */
function declare(L: RowLayout, kind: "let" | "var", name: string, row: Row): string {
  return L.pieces.map((_, i) => `${kind} ${name}${i} = ${row(i)};`).join("\n        ");
}

/**
 * x · y: the products of the four-float pieces summed as vectors (four
 * independent sums), then across, then the rest.
 */
function dot(L: RowLayout, x: Row, y: Row): string {
  const fours: string[] = [], ones: string[] = [];
  L.pieces.forEach((p, i) => (p.four ? fours : ones).push(`${x(i)} * ${y(i)}`));
  return [...(fours.length ? [`attSum4(${fours.join(" + ")})`] : []), ...ones].join(" + ");
}

/** Statements `acc_i = f(acc_i, i);` for every piece of the variables `acc`. */
function update(L: RowLayout, acc: string, f: (a: string, i: number) => string): string {
  return L.pieces.map((_, i) => `${acc}${i} = ${f(`${acc}${i}`, i)};`).join("\n        ");
}

/** Statements writing `row` to the output row at offset o (once, at the end). */
function store(L: RowLayout, o: string, row: Row): string {
  return L.pieces.map((p, i) => {
    if (L.vec || !p.four) return `result[${o} + ${p.at}] = ${row(i)};`;
    const parts = XYZW.map((c, k) => `result[${o} + ${p.at + k}] = w${i}.${c};`);
    return `let w${i} = ${row(i)}; ${parts.join(" ")}`;
  }).join("\n      ");
}

/** `var s`: query row q's score against the key row at ko, −1e9 where `kept` is false. */
function score(L: RowLayout, q: Row, ko: string, kept: string): string {
  return `var s = -1e9;
        if (${kept}) { s = (${dot(L, q, stored(L, "K", ko))}) / uniforms.sqrtD; }`;
}

/** One key j of the online softmax of the thread's query row: s, then m, l and the rescale. */
function onlineStep(L: RowLayout): string {
  return `let ko = attRow(b, j, head, uniforms.tk);
        ${score(L, named("q"), "ko", "attKeep(b, t, j)")}
        let mNew = max(m, s);
        let rescale = exp(m - mNew);
        let e = exp(s - mNew);
        m = mNew;
        l = l * rescale + e;`;
}

/** ∂s of query row r: P (∂o_r · v − D_r), from the WGSL of q · k and of ∂o_r · v. */
const dScore = (qk: string, dov: string) => `
        let p = exp((${qk}) / uniforms.sqrtD - S[3 * r]) / S[3 * r + 1];
        let ds = p * ((${dov}) - S[3 * r + 2]);`;

/** The bodies of `main` with d compiled in, as {@link RowLayout} L holds the rows. */
const COMPILED_BODY: Record<Kind, (L: RowLayout) => string> = {
  // Query row: o = Σ_j exp(s_j − m) v_j / l, m and l kept up to date as the
  // keys go by (the sum so far rescaled by exp(m_old − m_new) when m grows).
  forward: (L) =>
    `${ROW_COORDS("tq", String(L.stride))}
      ${declare(L, "let", "q", stored(L, "Q", "o"))}
      ${declare(L, "var", "a", zeros(L))}
      var m = -3.4e38;
      var l = 0.0;
      for (var j = 0; j < uniforms.tk; j++) {
        ${onlineStep(L)}
        ${update(L, "a", (a, i) => `${a} * rescale + e * ${stored(L, "V", "ko")(i)}`)}
      }
      ${store(L, "o", (i) => `a${i} / l`)}`,
  // Query row: m, l and D = ∂o · o.
  stats: (L) =>
    `${ROW_COORDS("tq", String(L.stride))}
      ${declare(L, "let", "q", stored(L, "Q", "o"))}
      var m = -3.4e38;
      var l = 0.0;
      for (var j = 0; j < uniforms.tk; j++) {
        ${onlineStep(L)}
      }
      result[3 * index] = m;
      result[3 * index + 1] = l;
      result[3 * index + 2] = ${dot(L, stored(L, "DO", "o"), stored(L, "O", "o"))};`,
  // Query row: ∂q = Σ_j ∂s_j k_j / √d over the keys it may attend to.
  dq: (L) =>
    `${ROW_COORDS("tq", String(L.stride))}
      ${declare(L, "let", "q", stored(L, "Q", "o"))}
      ${declare(L, "let", "g", stored(L, "DO", "o"))}
      ${declare(L, "var", "a", zeros(L))}
      let r = index;
      for (var j = 0; j < uniforms.tk; j++) {
        if (!attKeep(b, t, j)) { continue; }
        let ko = attRow(b, j, head, uniforms.tk);
        ${declare(L, "let", "k", stored(L, "K", "ko"))}
        ${dScore(dot(L, named("q"), named("k")), dot(L, named("g"), stored(L, "V", "ko")))}
        ${update(L, "a", (a, i) => `${a} + ds * k${i}`)}
      }
      ${store(L, "o", (i) => `a${i} / uniforms.sqrtD`)}`,
  // Key row: ∂k = Σ_i ∂s_i q_i / √d over the queries that may attend to it.
  dk: (L) =>
    `${ROW_COORDS("tk", String(L.stride))}
      ${declare(L, "let", "k", stored(L, "K", "o"))}
      ${declare(L, "let", "v", stored(L, "V", "o"))}
      ${declare(L, "var", "a", zeros(L))}
      for (var i = 0; i < uniforms.tq; i++) {
        if (!attKeep(b, i, t)) { continue; }
        let r = (b * uniforms.tq + i) * uniforms.h + head;
        let qo = r * ${L.stride};
        ${declare(L, "let", "x", stored(L, "Q", "qo"))}
        ${dScore(dot(L, named("x"), named("k")), dot(L, stored(L, "DO", "qo"), named("v")))}
        ${update(L, "a", (a, i) => `${a} + ds * x${i}`)}
      }
      ${store(L, "o", (i) => `a${i} / uniforms.sqrtD`)}`,
  // Key row: ∂v = Σ_i P_i ∂o_i over every query (a row masked everywhere included).
  dv: (L) =>
    `${ROW_COORDS("tk", String(L.stride))}
      ${declare(L, "let", "k", stored(L, "K", "o"))}
      ${declare(L, "var", "a", zeros(L))}
      for (var i = 0; i < uniforms.tq; i++) {
        let r = (b * uniforms.tq + i) * uniforms.h + head;
        let qo = r * ${L.stride};
        var s = -1e9;
        if (attKeep(b, i, t)) {
          s = (${dot(L, stored(L, "Q", "qo"), named("k"))}) / uniforms.sqrtD;
        }
        let p = exp(s - S[3 * r]) / S[3 * r + 1];
        ${update(L, "a", (a, i) => `${a} + p * ${stored(L, "DO", "qo")(i)}`)}
      }
      ${store(L, "o", named("a"))}`,
};

// ---------------------------------------------------------------------------
// Shaders for head sizes over MAX_COMPILED_D: d from the uniforms, sums in the output.

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

/** WGSL helpers of the shaders that read d from the uniforms. */
const RUNTIME_HELPERS = `
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

/** The thread's output row set to 0, for the sums that follow. */
const ZERO_ROW = overD((c) => `result[o + ${c}] = 0.0;`);

/** ∂s of query row r and key offset ko: P (∂o_r · v − D_r), with qo the row's offset. */
const D_SCORE = `
        let p = exp(attScore(qo, ko, true) - S[3 * r]) / S[3 * r + 1];
        var dp = 0.0;
        ${overD((c) => `dp += DO[qo + ${c}] * V[ko + ${c}];`)}
        let ds = p * (dp - S[3 * r + 2]);`;

/** The bodies of `main` that read d from the uniforms (the same sums as {@link COMPILED_BODY}). */
const RUNTIME_BODY: Record<Kind, string> = {
  forward: `${ROW_COORDS("tq", "uniforms.d")}
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
  stats: `${ROW_COORDS("tq", "uniforms.d")}
      let ml = attStats(b, t, head, o);
      var dd = 0.0;
      ${overD((c) => `dd += DO[o + ${c}] * O[o + ${c}];`)}
      result[3 * index] = ml.x;
      result[3 * index + 1] = ml.y;
      result[3 * index + 2] = dd;`,
  dq: `${ROW_COORDS("tq", "uniforms.d")}
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
  dk: `${ROW_COORDS("tk", "uniforms.d")}
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
  dv: `${ROW_COORDS("tk", "uniforms.d")}
      ${ZERO_ROW}
      for (var i = 0; i < uniforms.tq; i++) {
        let r = (b * uniforms.tq + i) * uniforms.h + head;
        let qo = r * uniforms.d;
        let p = exp(attScore(qo, o, attKeep(b, i, t)) - S[3 * r]) / S[3 * r + 1];
        ${overD((c) => `result[o + ${c}] += p * DO[qo + ${c}];`)}
      }`,
};

// ---------------------------------------------------------------------------

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
  // With d compiled in, each program has one loop, over the keys or the
  // queries, and nothing else loops (the loops over d are unrolled).
  if (d <= MAX_COMPILED_D) return Math.max(tq, tk) + 2;
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
 * output's other elements are written by those threads), for head size d.
 * TF.js spreads a dispatch over more dimensions itself when one is not
 * enough, and caches one pipeline a shader key: the key names d where it is
 * compiled in.
 */
function attentionProgram(
  kind: Kind,
  masked: boolean,
  d: number,
  outputShape: number[],
  threads: number,
): Record<string, unknown> {
  const layout = d <= MAX_COMPILED_D ? rowLayout(d) : null;
  const inputs = masked ? [...INPUTS[kind], "M"] : INPUTS[kind];
  const base = flatProgram({
    key: `fuselab_attention_${kind}${masked ? "_masked" : ""}_${layout ? `d${d}` : "dany"}`,
    inputs,
    outputShape,
    uniforms: UNIFORMS,
    body: "",
    workgroup: WORKGROUP,
  });
  const vec = layout?.vec ?? false;
  return {
    ...base,
    dispatch: [Math.ceil(threads / WORKGROUP), 1, 1],
    outputComponent: vec && kind !== "stats" ? 4 : 1,
    variableComponents: inputs.map((name) => vec && ROW_INPUTS.has(name) ? 4 : 1),
    getUserCode: () => `
      ${helpers(masked, layout ? String(layout.stride) : "uniforms.d")}
      ${layout ? "" : RUNTIME_HELPERS}
      fn main(index : i32) {
        if (index < uniforms.rows) {
          ${layout ? COMPILED_BODY[kind](layout) : RUNTIME_BODY[kind]}
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
    const program = attentionProgram(kind, keep !== undefined, dims.d, shape, rows);
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
