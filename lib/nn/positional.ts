/**
 * Positional information for the Transformer.
 *
 * Absolute encodings are added to the embeddings, followed by dropout (as the
 * Annotated Transformer's `PositionalEncoding`):
 * - {@link PositionalEncoding}: the fixed sinusoid of Vaswani et al. (2017, §3.5),
 *   PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d));
 * - {@link LearnedPositionalEncoding}: a trained table (Gehring et al., 2017), an
 *   error past its `maxLen`;
 * - {@link NoPositionalEncoding}: dropout only (for "none", and for RoPE and
 *   ALiBi, which act inside attention, see `attention.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { Embedding } from "./embeddings.ts";
import { dropout } from "./dropout.ts";

/**
 * Positional schemes a model can be built with: the one list that the config
 * schema (`model.positional`) and {@link makePositional} both read.
 */
export const POSITIONAL_KINDS = ["sinusoid", "learned", "none", "rope", "alibi"] as const;
/** A positional scheme. */
export type PositionalKind = typeof POSITIONAL_KINDS[number];

/** What every positional stage offers: apply to embeddings, and a matrix for artifacts. */
export interface PositionalStage {
  /** x [B, T, d] → x plus positions, then dropout. */
  apply(x: tf.Tensor): tf.Tensor;
  /**
   * The position × dimension matrix added to embeddings for `len` positions,
   * or null if none, read synchronously: CPU backends only for a learned
   * table (use {@link PositionalStage.readPositionalMatrix} on WebGPU).
   */
  positionalMatrix(len: number): number[][] | null;
  /** The same matrix, read asynchronously: works on every backend. */
  readPositionalMatrix(len: number): Promise<number[][] | null>;
}

/** The sinusoid table [len, dModel] as plain numbers (float64 arithmetic). */
export function sinusoidTable(len: number, dModel: number): Float32Array {
  const out = new Float32Array(len * dModel);
  for (let pos = 0; pos < len; pos++) {
    for (let i = 0; i < dModel; i += 2) {
      const angle = pos * Math.exp(-(i * Math.log(10000)) / dModel);
      out[pos * dModel + i] = Math.sin(angle);
      if (i + 1 < dModel) out[pos * dModel + i + 1] = Math.cos(angle);
    }
  }
  return out;
}

function toRows(data: Float32Array | Int32Array | Uint8Array, len: number, d: number): number[][] {
  const rows: number[][] = [];
  for (let p = 0; p < len; p++) rows.push(Array.from(data.subarray(p * d, (p + 1) * d)));
  return rows;
}

/** The fixed sinusoid encoding, no parameters; any length. */
export class PositionalEncoding extends Module implements PositionalStage {
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;
  /** The table of the last length applied (computing it took about 1 ms a step at 64 × 256). */
  #last?: { t: number; table: Float32Array };

  /** @param dModel width @param dropoutRate dropout after the sum @param rng dropout stream */
  constructor(readonly dModel: number, readonly dropoutRate: number, rng: Rng) {
    super();
    this.dropRng = rng.fork();
  }

  /** x [B, T, d] → dropout(x + PE[:T]). */
  apply(x: tf.Tensor): tf.Tensor {
    const t = x.shape[1]!;
    if (this.#last?.t !== t) this.#last = { t, table: sinusoidTable(t, this.dModel) };
    // A copy: a backend may keep the array it is given as the tensor's storage.
    const pe = tf.tensor2d(this.#last.table.slice(), [t, this.dModel]);
    return dropout(tf.add(x, pe), this.dropoutRate, this.dropRng, this.training);
  }

  /** The table [len, dModel] for the positional-encoding artifact. */
  table(len: number): number[][] {
    return toRows(sinusoidTable(len, this.dModel), len, this.dModel);
  }

  /** Same as {@link PositionalEncoding.table}. */
  positionalMatrix(len: number): number[][] {
    return this.table(len);
  }

  /** Same as {@link PositionalEncoding.table} (computed on the CPU, nothing to read). */
  readPositionalMatrix(len: number): Promise<number[][]> {
    return Promise.resolve(this.table(len));
  }
}

/** A learned absolute table: parameter `pe.weight` [maxLen, dModel]. */
export class LearnedPositionalEncoding extends Module implements PositionalStage {
  /** The table. */
  readonly pe: Embedding;
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;

  /**
   * @param maxLen positions the table holds; longer inputs are an error
   * @param dModel width
   * @param rng initialisation (Xavier uniform) and dropout stream
   * @param dropoutRate dropout after the sum
   */
  constructor(
    readonly maxLen: number,
    readonly dModel: number,
    rng: Rng,
    readonly dropoutRate = 0,
  ) {
    super();
    this.pe = this.child("pe", new Embedding(maxLen, dModel, rng));
    this.dropRng = rng.fork();
  }

  /** x [B, T, d] → dropout(x + table[:T]); T past maxLen is an error. */
  apply(x: tf.Tensor): tf.Tensor {
    const t = x.shape[1]!;
    if (t > this.maxLen) {
      throw new Error(
        `position ${t} is past the learned table's maxLen ${this.maxLen}: ` +
          `raise model.maxLen or evaluate on shorter sequences`,
      );
    }
    const rows = t === this.maxLen ? this.pe.weight : tf.slice(this.pe.weight, [0, 0], [t, -1]);
    return dropout(tf.add(x, rows), this.dropoutRate, this.dropRng, this.training);
  }

  /**
   * The learned table's first `len` rows (all rows by default), read
   * synchronously: CPU backends only (cpu, wasm, blas); on WebGPU use
   * {@link LearnedPositionalEncoding.readPositionalMatrix}.
   */
  positionalMatrix(len = this.maxLen): number[][] {
    const n = Math.min(len, this.maxLen);
    return toRows(this.pe.weight.dataSync() as Float32Array, n, this.dModel);
  }

  /** The learned table's first `len` rows (all rows by default), read asynchronously. */
  async readPositionalMatrix(len = this.maxLen): Promise<number[][]> {
    const n = Math.min(len, this.maxLen);
    return toRows((await this.pe.weight.data()) as Float32Array, n, this.dModel);
  }
}

/** No absolute positions: dropout only. Used for "none", "rope" and "alibi". */
export class NoPositionalEncoding extends Module implements PositionalStage {
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;

  /** @param dropoutRate dropout on the embeddings @param rng dropout stream */
  constructor(readonly dropoutRate: number, rng: Rng) {
    super();
    this.dropRng = rng.fork();
  }

  /** x → dropout(x). */
  apply(x: tf.Tensor): tf.Tensor {
    return dropout(x, this.dropoutRate, this.dropRng, this.training);
  }

  /** Nothing is added to the embeddings. */
  positionalMatrix(): null {
    return null;
  }

  /** Nothing is added to the embeddings. */
  readPositionalMatrix(): Promise<null> {
    return Promise.resolve(null);
  }
}

/** Builds the stage that follows the embeddings for a positional kind. */
export function makePositional(
  kind: PositionalKind,
  dModel: number,
  dropoutRate: number,
  maxLen: number,
  rng: Rng,
): Module & PositionalStage {
  switch (kind) {
    case "sinusoid":
      return new PositionalEncoding(dModel, dropoutRate, rng);
    case "learned":
      return new LearnedPositionalEncoding(maxLen, dModel, rng, dropoutRate);
    case "none":
    case "rope":
    case "alibi":
      return new NoPositionalEncoding(dropoutRate, rng);
    default:
      throw new Error(
        `unknown positional encoding "${kind}": use sinusoid, learned, none, rope or alibi`,
      );
  }
}

/**
 * The matrix a positional stage adds for `len` positions (null for
 * none/RoPE/ALiBi), read synchronously: CPU backends only for a learned table.
 */
export function positionalMatrix(stage: PositionalStage, len: number): number[][] | null {
  return stage.positionalMatrix(len);
}

/** The matrix a positional stage adds for `len` positions, read asynchronously (any backend). */
export function readPositionalMatrix(
  stage: PositionalStage,
  len: number,
): Promise<number[][] | null> {
  return stage.readPositionalMatrix(len);
}
