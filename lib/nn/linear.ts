/**
 * `Linear`: y = x Wᵀ + b, with W in PyTorch's layout [out, in].
 *
 * Inputs of any rank ≥ 2 are flattened to [N, in] and multiplied as a plain
 * 2-D matmul (the stock wasm kernels mishandle broadcast batch matmuls and
 * fused bias, and are slow with transposed operands: see `matmul.ts`), then
 * reshaped back to [..., out].
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { uniformTensor, xavierUniform } from "./init.ts";
import { matmulT } from "./matmul.ts";

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /**
   * Weight initialisation: "xavier" (uniform, as the Annotated Transformer's
   * make_model re-initialises every matrix; default) or "pytorch"
   * (U(±1/√in), `nn.Linear`'s own). The bias is U(±1/√in) either way.
   */
  init?: "xavier" | "pytorch";
}

/** A fully connected layer: parameters `weight` [out, in] and `bias` [out]. */
export class Linear extends Module {
  /** Weight [out, in]. */
  readonly weight: tf.Variable;
  /** Bias [out], or undefined without bias. */
  readonly bias?: tf.Variable;

  /**
   * @param inFeatures input width
   * @param outFeatures output width
   * @param rng initialisation stream
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    opts: LinearOptions = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const w = (opts.init ?? "xavier") === "xavier"
      ? xavierUniform([outFeatures, inFeatures], rng)
      : uniformTensor([outFeatures, inFeatures], -bound, bound, rng);
    this.weight = this.param("weight", w);
    if (opts.bias ?? true) {
      this.bias = this.param("bias", uniformTensor([outFeatures], -bound, bound, rng));
    }
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures} → ${this.outFeatures}) got input of width ${last} (shape [${x.shape}])`,
      );
    }
    const lead = x.shape.slice(0, -1);
    const flat = x.rank === 2 ? x : x.reshape([-1, this.inFeatures]);
    let y: tf.Tensor;
    if (this.bias && tf.getBackend() === "webgpu") {
      // One dispatch forward (the bias added inside the product), one fewer backward.
      y = tf.fused.matMul({ a: flat, b: this.weight, transposeB: true, bias: this.bias });
    } else {
      y = matmulT(flat, this.weight);
      if (this.bias) y = tf.add(y, this.bias);
    }
    return x.rank === 2 ? y : y.reshape([...lead, this.outFeatures]);
  }
}
