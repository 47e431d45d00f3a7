/**
 * Scaled dot-product attention and multi-head attention (Vaswani et al.,
 * 2017, §3.2):
 *
 *   Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + B) V,  masked scores set to −1e9,
 *   MultiHead(Q, K, V) = Concat(head_1 … head_h) W^O,
 *   head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).
 *
 * Relative position schemes that act inside attention:
 * - RoPE (Su et al., 2021): q and k of each head rotated by position,
 *   x ↦ x ⊙ cos(pθ) + rotate_half(x) ⊙ sin(pθ), θ_i = 10000^(−2i/d_k)
 *   (the "rotate half" pairing: dimension i with i + d_k/2);
 * - ALiBi (Press et al., 2022): a bias B[h, i, j] = −m_h · |i − j| added to the
 *   scores, with head slopes m_h geometric (2^(−8/h), 2^(−16/h), …).
 *
 * On the webgpu backend, {@link MultiHeadedAttention} runs the attention of
 * all heads as one fused program forward and four backward
 * (`lib/engine/webgpu/attention.ts`) where nothing else acts inside it (no
 * RoPE or ALiBi, no dropout while training, no recorded probabilities);
 * `FUSELAB_WEBGPU_FUSED_ATTENTION=0` or {@link setFusedAttention}(false)
 * keeps the tensor formula.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { ModuleList } from "./module_list.ts";
import { Linear } from "./linear.ts";
import { dropout as applyDropout } from "./dropout.ts";
import { fusedAttentionFits, fusedAttentionWebGPU } from "../engine/webgpu/attention.ts";
import { envSwitch } from "../engine/switches.ts";

const fusedAttention = envSwitch("FUSELAB_WEBGPU_FUSED_ATTENTION", true);

/**
 * Turns the fused webgpu attention of {@link MultiHeadedAttention} on (the
 * default) or off, for comparisons and tests;
 * `FUSELAB_WEBGPU_FUSED_ATTENTION=0` turns it off from the start.
 */
export function setFusedAttention(on: boolean): void {
  fusedAttention.on = on;
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Dropout rate on the attention probabilities (default 0). */
  dropout?: number;
  /** Stream for the dropout mask (needed when dropout > 0 and training). */
  rng?: Rng;
  /** Dropout is active only while training (default false). */
  training?: boolean;
  /** Added to the scores before masking (ALiBi), broadcastable to [..., T_q, T_k]. */
  bias?: tf.Tensor;
}

/** Output of {@link attention}. */
export interface AttentionResult {
  /** softmax(...) V, [..., T_q, d_v]. */
  output: tf.Tensor;
  /** The attention probabilities [..., T_q, T_k] (before dropout). */
  probs: tf.Tensor;
}

/**
 * Scaled dot-product attention. `query` [..., T_q, d_k], `key` [..., T_k, d_k],
 * `value` [..., T_k, d_v] with equal leading dims; `mask` (1 = may attend,
 * float or bool) broadcastable to [..., T_q, T_k].
 */
export function attention(
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  mask?: tf.Tensor,
  opts: AttentionOptions = {},
): AttentionResult {
  const dK = query.shape[query.shape.length - 1];
  let scores = tf.div(tf.matMul(query, key, false, true), Math.sqrt(dK));
  if (opts.bias) scores = tf.add(scores, opts.bias);
  if (mask) scores = maskedFill(scores, mask);
  const probs = tf.softmax(scores, -1);
  const rate = opts.dropout ?? 0;
  let p = probs;
  if (rate > 0 && opts.training) {
    if (!opts.rng) throw new Error("attention: dropout while training needs an rng");
    p = applyDropout(probs, rate, opts.rng, true);
  }
  return { output: tf.matMul(p, value), probs };
}

/**
 * Scores where `mask` is 0 (or false) set to −1e9, the others unchanged:
 * `scores · keep + (1 − keep) · (−1e9)` with keep ∈ {0, 1} at the mask's own
 * (broadcast) shape. Exactly PyTorch's `masked_fill` for finite scores, in two
 * broadcasting element-wise kernels; `tf.where` would first materialise the
 * mask and the fill value at the full [..., T_q, T_k] shape (on the bench
 * model that was 4% of a CPU step).
 */
export function maskedFill(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const keep = tf.cast(mask.dtype === "bool" ? mask : tf.notEqual(mask, 0), "float32");
  const fill = tf.mul(tf.sub(1, keep), -1e9);
  return tf.add(tf.mul(scores, keep), fill);
}

/** ALiBi head slopes (Press et al., 2022): geometric for a power-of-two h, interleaved otherwise. */
export function alibiSlopes(h: number): number[] {
  const pow2 = (n: number) => {
    const start = Math.pow(2, -8 / n);
    return Array.from({ length: n }, (_, i) => Math.pow(start, i + 1));
  };
  if (Number.isInteger(Math.log2(h))) return pow2(h);
  const closest = Math.pow(2, Math.floor(Math.log2(h)));
  return [
    ...pow2(closest),
    ...pow2(2 * closest).filter((_, i) => i % 2 === 0).slice(0, h - closest),
  ];
}

/** The ALiBi bias [h, T_q, T_k]: −m_h · |i − j|. */
export function alibiBias(h: number, tq: number, tk: number): tf.Tensor3D {
  const slopes = alibiSlopes(h);
  const data = new Float32Array(h * tq * tk);
  for (let k = 0; k < h; k++) {
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) data[(k * tq + i) * tk + j] = -slopes[k] * Math.abs(i - j);
    }
  }
  return tf.tensor3d(data, [h, tq, tk]);
}

/** A head split that cannot be built: which rule it breaks, and a message naming the fix. */
export interface HeadSplitProblem {
  /** `divide`: h must divide d_model; `rope-even`: RoPE rotates pairs, so d_k must be even. */
  rule: "divide" | "rope-even";
  message: string;
}

/**
 * Whether d_model splits into h heads of width d_k = d_model / h, and (for
 * RoPE, which rotates pairs of a head's features) whether d_k is even: the
 * rule that {@link MultiHeadedAttention} enforces and experiment validation
 * reports before anything trains. `undefined` when the split is fine.
 */
export function headSplitProblem(
  dModel: number,
  h: number,
  positional?: string,
): HeadSplitProblem | undefined {
  if (!Number.isInteger(h) || h < 1 || dModel % h !== 0) {
    return {
      rule: "divide",
      message: `d_model ${dModel} is not divisible by h = ${h}: choose heads that divide d_model`,
    };
  }
  if (positional === "rope" && (dModel / h) % 2 !== 0) {
    return {
      rule: "rope-even",
      message:
        `RoPE needs an even width per head, but d_model ${dModel} / h ${h} = ${dModel / h}: ` +
        `choose d_model and heads with an even quotient`,
    };
  }
  return undefined;
}

/** cos and sin tables [T, d] for RoPE with the rotate-half pairing. */
export function ropeTables(
  t: number,
  d: number,
  base = 10000,
): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  if (d % 2 !== 0) {
    throw new Error(`RoPE needs an even head width, got d_k = ${d}: choose d_model/h even`);
  }
  const half = d / 2;
  const c = new Float32Array(t * d), s = new Float32Array(t * d);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(base, (-2 * i) / d);
      c[p * d + i] = c[p * d + i + half] = Math.cos(a);
      s[p * d + i] = s[p * d + i + half] = Math.sin(a);
    }
  }
  return { cos: tf.tensor2d(c, [t, d]), sin: tf.tensor2d(s, [t, d]) };
}

/** Rotates x [..., T, d] by position (RoPE): x ⊙ cos + rotate_half(x) ⊙ sin. */
export function applyRope(x: tf.Tensor, base = 10000): tf.Tensor {
  const t = x.shape[x.rank - 2], d = x.shape[x.rank - 1];
  const { cos, sin } = ropeTables(t, d, base);
  const [x1, x2] = tf.split(x, 2, -1);
  const rotated = tf.concat([tf.neg(x2), x1], -1);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/** Options of {@link MultiHeadedAttention}. */
export interface MultiHeadedAttentionOptions {
  /** "rope" or "alibi" act inside attention; anything else adds nothing here. */
  positional?: string;
  /** RoPE base (default 10000). */
  ropeBase?: number;
}

/**
 * Multi-head attention with parameters `linears.0..3` (W^Q, W^K, W^V, W^O),
 * each `Linear(d_model, d_model)`.
 */
export class MultiHeadedAttention extends Module {
  /** W^Q, W^K, W^V, W^O. */
  readonly linears: ModuleList<Linear>;
  /** Width per head, d_model / h. */
  readonly dK: number;
  #record = false;
  #recorded?: tf.Tensor;
  /** The positional scheme acting inside attention ("rope", "alibi"; anything else: none). */
  readonly positional: string;
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;
  #ropeBase: number;

  /**
   * When true, each {@link MultiHeadedAttention.apply} keeps its attention
   * probabilities [B, h, T_q, T_k] (one tensor, the last call's), to be read
   * with {@link MultiHeadedAttention.readAttention}. Setting it to false frees
   * the kept tensor.
   */
  get recordAttention(): boolean {
    return this.#record;
  }
  set recordAttention(on: boolean) {
    this.#record = on;
    if (!on) this.clearAttention();
  }

  /**
   * The last recorded attention probabilities [B][h][T_q][T_k], read
   * asynchronously (works on every backend, WebGPU included); undefined when
   * nothing was recorded.
   */
  async readAttention(): Promise<number[][][][] | undefined> {
    return this.#recorded ? (await this.#recorded.array()) as number[][][][] : undefined;
  }

  /**
   * The last recorded attention probabilities, read synchronously.
   * CPU backends only (cpu, wasm, blas): a GPU tensor cannot be read
   * synchronously in Deno; use {@link MultiHeadedAttention.readAttention}.
   */
  get lastAttention(): number[][][][] | undefined {
    return this.#recorded?.arraySync() as number[][][][] | undefined;
  }

  /** Frees the recorded probabilities. */
  clearAttention(): void {
    this.#recorded?.dispose();
    this.#recorded = undefined;
  }

  /**
   * @param h number of heads (must divide dModel)
   * @param dModel model width
   * @param dropoutRate dropout on the attention probabilities
   * @param rng initialisation and dropout stream
   */
  constructor(
    readonly h: number,
    readonly dModel: number,
    readonly dropoutRate: number,
    rng: Rng,
    opts: MultiHeadedAttentionOptions = {},
  ) {
    super();
    this.positional = opts.positional ?? "none";
    const problem = headSplitProblem(dModel, h, this.positional);
    if (problem) throw new Error(problem.message);
    this.dK = dModel / h;
    this.#ropeBase = opts.ropeBase ?? 10000;
    this.linears = this.child(
      "linears",
      new ModuleList([0, 1, 2, 3].map(() => new Linear(dModel, dModel, rng))),
    );
    this.dropRng = rng.fork();
  }

  /**
   * query [B, T_q, d], key and value [B, T_k, d]; mask [B, 1, T_k] or
   * [B, T_q, T_k] (1 = may attend). Returns [B, T_q, d].
   */
  apply(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    const fused = this.#fused(query, key, value, mask);
    if (fused) return this.linears.at(3).apply(fused.reshape([query.shape[0], -1, this.dModel]));
    const b = query.shape[0];
    const split = (i: number, x: tf.Tensor) =>
      this.linears.at(i).apply(x).reshape([b, -1, this.h, this.dK]).transpose([0, 2, 1, 3]);
    let q = split(0, query), k = split(1, key);
    const v = split(2, value);
    if (this.positional === "rope") {
      q = applyRope(q, this.#ropeBase);
      k = applyRope(k, this.#ropeBase);
    }
    const bias = this.positional === "alibi"
      ? alibiBias(this.h, q.shape[2]!, k.shape[2]!)
      : undefined;
    const { output, probs } = attention(q, k, v, mask ? mask.expandDims(1) : undefined, {
      dropout: this.dropoutRate,
      rng: this.dropRng,
      training: this.training,
      bias,
    });
    if (this.#record) {
      this.clearAttention();
      // A copy outlives the caller's tf.tidy and stays on the device until read.
      this.#recorded = tf.keep(tf.clone(probs));
    }
    const x = output.transpose([0, 2, 1, 3]).reshape([b, -1, this.dModel]);
    return this.linears.at(3).apply(x);
  }

  /** Whether the fused webgpu attention may replace the tensor formula in this call. */
  #fusable(): boolean {
    return fusedAttention.on && tf.getBackend() === "webgpu" && !this.#record &&
      this.positional !== "rope" && this.positional !== "alibi" &&
      (this.dropoutRate === 0 || !this.training);
  }

  /**
   * The heads' attention [B, T_q, h, d_k] by the fused webgpu programs, from
   * the projections reshaped to [B, T, h, d_k]; null where they do not apply.
   */
  #fused(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, mask?: tf.Tensor): tf.Tensor | null {
    const [b, tq] = query.shape, tk = key.shape[1]!;
    if (!this.#fusable() || !fusedAttentionFits(b, tq, tk, this.h, this.dK, mask)) return null;
    const heads = (i: number, x: tf.Tensor) =>
      this.linears.at(i).apply(x).reshape([b, -1, this.h, this.dK]);
    const q = heads(0, query), k = heads(1, key), v = heads(2, value);
    const out = fusedAttentionWebGPU(q, k, v, mask);
    if (!out) tf.dispose([q, k, v]); // not float32: the tensor formula starts again
    return out;
  }
}
