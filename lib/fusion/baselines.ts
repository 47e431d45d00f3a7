/**
 * The fusion baselines of the GMU paper (Arevalo et al., 2017, §4):
 *
 * - {@link ConcatFusion}: h = tanh(W [x_1; …; x_n] + b);
 * - {@link SumFusion}: h = Σ_i tanh(W_i x_i + b_i) (a linear sum of per-modality projections);
 * - {@link LateFusion}: one classifier per modality, p = (1/n) Σ_i p_i
 *   (softmax or sigmoid of each head's logits).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "../nn/module.ts";
import { ModuleList } from "../nn/module_list.ts";
import { Linear } from "../nn/linear.ts";
import { binaryCrossEntropyWithLogits, crossEntropy } from "../nn/losses.ts";
import { checkInputs, type Fusion, type FusionOutput } from "./fusion.ts";

/** Concatenation then one tanh layer: parameter `proj` (Σd → hiddenDim). */
export class ConcatFusion extends Module implements Fusion {
  /** Always "concat". */
  readonly kind = "concat";
  /** Produces a hidden vector for a head. */
  readonly produces = "hidden" as const;
  /** Width of h. */
  readonly outDim: number;
  /** W, b. */
  readonly proj: Linear;

  /** @param inputDims modality widths @param hiddenDim width of h */
  constructor(readonly inputDims: number[], hiddenDim: number, rng: Rng) {
    super();
    this.outDim = hiddenDim;
    this.proj = this.child(
      "proj",
      new Linear(inputDims.reduce((a, b) => a + b, 0), hiddenDim, rng),
    );
  }

  /** xs → tanh(W [x_1; …; x_n] + b); no gates. */
  apply(xs: tf.Tensor[]): FusionOutput {
    checkInputs("ConcatFusion", this.inputDims, xs);
    return { h: tf.tanh(this.proj.apply(tf.concat(xs, -1))), gates: [] };
  }
}

/** Sum of per-modality tanh projections: parameters `hidden.i`. */
export class SumFusion extends Module implements Fusion {
  /** Always "sum". */
  readonly kind = "sum";
  /** Produces a hidden vector for a head. */
  readonly produces = "hidden" as const;
  /** Width of h. */
  readonly outDim: number;
  /** W_i, b_i. */
  readonly hidden: ModuleList<Linear>;

  /** @param inputDims modality widths @param hiddenDim width of h */
  constructor(readonly inputDims: number[], hiddenDim: number, rng: Rng) {
    super();
    this.outDim = hiddenDim;
    this.hidden = this.child(
      "hidden",
      new ModuleList(inputDims.map((d) => new Linear(d, hiddenDim, rng))),
    );
  }

  /** xs → Σ_i tanh(W_i x_i + b_i); no gates. */
  apply(xs: tf.Tensor[]): FusionOutput {
    checkInputs("SumFusion", this.inputDims, xs);
    return { h: tf.addN(xs.map((x, i) => tf.tanh(this.hidden.at(i).apply(x)))), gates: [] };
  }
}

/** Options of {@link LateFusion}. */
export interface LateFusionOptions {
  /** Sigmoid per class (multi-label) instead of softmax. */
  multiLabel?: boolean;
}

/**
 * Late fusion: a linear classifier per modality (`heads.i`, d_i → classes);
 * the prediction is the mean of their probabilities. Train it with
 * {@link LateFusion.loss} (the mean of the per-modality losses, so each head
 * learns on its own modality), predict with `h`.
 */
export class LateFusion extends Module implements Fusion {
  /** Always "late". */
  readonly kind = "late";
  /** `h` is already class probabilities. */
  readonly produces = "probabilities" as const;
  /** Number of classes (width of h). */
  readonly outDim: number;
  /** One classifier per modality. */
  readonly heads: ModuleList<Linear>;
  /** Sigmoid (true) or softmax. */
  readonly multiLabel: boolean;

  /** @param inputDims modality widths @param classes number of classes */
  constructor(
    readonly inputDims: number[],
    classes: number,
    rng: Rng,
    opts: LateFusionOptions = {},
  ) {
    super();
    this.outDim = classes;
    this.multiLabel = opts.multiLabel ?? false;
    this.heads = this.child(
      "heads",
      new ModuleList(inputDims.map((d) => new Linear(d, classes, rng))),
    );
  }

  /** xs → mean of per-modality probabilities, with the per-modality logits. */
  apply(xs: tf.Tensor[]): FusionOutput {
    checkInputs("LateFusion", this.inputDims, xs);
    const logits = xs.map((x, i) => this.heads.at(i).apply(x));
    const probs = logits.map((l) => this.multiLabel ? tf.sigmoid(l) : tf.softmax(l, -1));
    return { h: tf.div(tf.addN(probs), probs.length), gates: [], logits };
  }

  /**
   * The training loss: the mean over modalities of each head's own loss
   * (cross-entropy on int32 ids [B], or sigmoid BCE on 0/1 [B, classes]).
   */
  loss(out: FusionOutput, targets: tf.Tensor): tf.Scalar {
    const per = out.logits!.map((l) =>
      this.multiLabel ? binaryCrossEntropyWithLogits(l, targets) : crossEntropy(l, targets)
    );
    return tf.div(tf.addN(per), per.length) as tf.Scalar;
  }
}
