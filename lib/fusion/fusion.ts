/**
 * The common interface of multimodal fusions: a list of per-modality vectors
 * in, one fused output plus any gate activations out, so that a model can
 * swap GMU, concatenation, sum and late fusion by name.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module.ts";

/** What a fusion returns. */
export interface FusionOutput {
  /**
   * The fused representation [B, outDim] (for `produces: "hidden"`), or the
   * averaged class probabilities [B, classes] (for `produces: "probabilities"`).
   */
  h: tf.Tensor;
  /** Gate activations per modality, each [B, outDim] (empty for ungated fusions). */
  gates: tf.Tensor[];
  /** Per-modality logits [B, classes] (late fusion only). */
  logits?: tf.Tensor[];
}

/** A fusion of n modality vectors. */
export interface Fusion extends Module {
  /** "gmu", "concat", "sum" or "late". */
  readonly kind: string;
  /** Widths of the modality inputs, in order. */
  readonly inputDims: number[];
  /** Width of `h`. */
  readonly outDim: number;
  /** "hidden": `h` goes on to a classification head; "probabilities": `h` is already the prediction. */
  readonly produces: "hidden" | "probabilities";
  /** xs[i] [B, inputDims[i]] → fused output. */
  apply(xs: tf.Tensor[]): FusionOutput;
}

/** Checks the modality list against the declared widths. */
export function checkInputs(name: string, inputDims: number[], xs: tf.Tensor[]): void {
  if (xs.length !== inputDims.length) {
    throw new Error(
      `${name} was built for ${inputDims.length} modalities but got ${xs.length} inputs`,
    );
  }
  xs.forEach((x, i) => {
    const w = x.shape[x.rank - 1];
    if (x.rank !== 2 || w !== inputDims[i]) {
      throw new Error(
        `${name}: modality ${i} should be [B, ${inputDims[i]}], got [${x.shape}]`,
      );
    }
  });
}
