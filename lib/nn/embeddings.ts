/**
 * Token embeddings scaled by √d_model (Vaswani et al., 2017, §3.4):
 * Embeddings(x) = lut[x] · √d_model.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { normalTensor, xavierUniform } from "./init.ts";

/** A lookup table (PyTorch's `nn.Embedding`): parameter `weight` [vocab, dim]. */
export class Embedding extends Module {
  /** The table [vocab, dim]. */
  readonly weight: tf.Variable;

  /** @param init "xavier" (the reference's make_model, default) or "normal" (N(0, 1), PyTorch's own) */
  constructor(
    readonly vocab: number,
    readonly dim: number,
    rng: Rng,
    init: "xavier" | "normal" = "xavier",
  ) {
    super();
    const w = init === "xavier"
      ? xavierUniform([vocab, dim], rng)
      : normalTensor([vocab, dim], 1, rng);
    this.weight = this.param("weight", w);
  }

  /** ids int32 [...] → [..., dim]. */
  apply(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.weight, ids.dtype === "int32" ? ids : ids.toInt());
  }
}

/** Embeddings scaled by √d_model: parameter `lut.weight` [vocab, d_model]. */
export class Embeddings extends Module {
  /** The lookup table. */
  readonly lut: Embedding;

  /** @param vocab vocabulary size @param dModel width */
  constructor(readonly vocab: number, readonly dModel: number, rng: Rng) {
    super();
    this.lut = this.child("lut", new Embedding(vocab, dModel, rng));
  }

  /** ids int32 [B, T] → [B, T, d_model]. */
  apply(ids: tf.Tensor): tf.Tensor {
    return tf.mul(this.lut.apply(ids), Math.sqrt(this.dModel));
  }
}
