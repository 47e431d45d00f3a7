/**
 * Layer normalisation (Ba et al., 2016) exactly as the Annotated Transformer
 * writes it: LN(x) = a_2 · (x − mean) / (std + eps) + b_2, where std is the
 * unbiased (n − 1) standard deviation over the last axis and eps is added to
 * the std, not to the variance.
 *
 * On the wasm/blas backend the same formula runs fused, one pass forward and
 * one backward (`lib/engine/blas/layer_norm.ts`), on webgpu in three dispatches
 * (`lib/engine/webgpu/layer_norm.ts`); elsewhere, or with
 * {@link setFusedLayerNorm}(false), as the tensor formula below.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { fusedLayerNormWasm } from "../engine/blas/layer_norm.ts";
import { fusedLayerNormWebGPU } from "../engine/webgpu/layer_norm.ts";
import { Module } from "./module.ts";

let fused = true;

/** Turns the fused LayerNorm kernels off (or back on): for comparisons and tests. */
export function setFusedLayerNorm(on: boolean): void {
  fused = on;
}

/** The tensor formula: a · (x − mean) / (std + eps) + b, std unbiased. */
export function layerNormFormula(x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const n = x.shape[x.shape.length - 1];
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.div(tf.sum(tf.square(centered), -1, true), Math.max(n - 1, 1));
  const std = tf.sqrt(variance);
  return tf.add(tf.mul(a, tf.div(centered, tf.add(std, eps))), b);
}

/** LayerNorm with parameters `a_2` (gain, ones) and `b_2` (shift, zeros). */
export class LayerNorm extends Module {
  /** Gain [features]. */
  readonly a2: tf.Variable;
  /** Shift [features]. */
  readonly b2: tf.Variable;

  /** @param features width of the last axis @param eps added to the std */
  constructor(readonly features: number, readonly eps = 1e-6) {
    super();
    this.a2 = this.param("a_2", tf.ones([features]));
    this.b2 = this.param("b_2", tf.zeros([features]));
  }

  /** x [..., features] → same shape. */
  apply(x: tf.Tensor): tf.Tensor {
    const y = fused
      ? fusedLayerNormWasm(x, this.a2, this.b2, this.eps) ??
        fusedLayerNormWebGPU(x, this.a2, this.b2, this.eps)
      : null;
    return y ?? layerNormFormula(x, this.a2, this.b2, this.eps);
  }
}
