/**
 * The Gated Multimodal Unit (Arevalo et al., 2017).
 *
 * Bimodal form (one gate):
 *   h_1 = tanh(W_1 x_1),  h_2 = tanh(W_2 x_2),  z = σ(W_z [x_1; x_2]),
 *   h = z ⊙ h_1 + (1 − z) ⊙ h_2.
 *
 * n-modal form (one gate per modality):
 *   h_i = tanh(W_i x_i),  z_i = σ(W_zi [x_1; …; x_n]),  h = Σ_i z_i ⊙ h_i.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "../nn/module.ts";
import { ModuleList } from "../nn/module_list.ts";
import { Linear } from "../nn/linear.ts";
import { checkInputs, type Fusion, type FusionOutput } from "./fusion.ts";

/** Options of {@link GatedMultimodalUnit}. */
export interface GMUOptions {
  /** Use the n-modal form (one gate per modality) even for two inputs. */
  nModal?: boolean;
  /** Add biases to the projections and gates (default false: the paper's equations have none). */
  bias?: boolean;
}

/**
 * GMU: parameters `hidden.i.weight` [hiddenDim, d_i] and either `gate.weight`
 * [hiddenDim, Σd] (bimodal) or `gates.i.weight` [hiddenDim, Σd] (n-modal).
 */
export class GatedMultimodalUnit extends Module implements Fusion {
  /** Always "gmu". */
  readonly kind = "gmu";
  /** Produces a hidden vector for a head. */
  readonly produces = "hidden" as const;
  /** Width of h. */
  readonly outDim: number;
  /** True for the n-modal form. */
  readonly nModal: boolean;
  /** W_i, one per modality. */
  readonly hidden: ModuleList<Linear>;
  /** W_z (bimodal form). */
  readonly gate?: Linear;
  /** W_zi (n-modal form). */
  readonly gates?: ModuleList<Linear>;

  /**
   * @param inputDims widths of the modalities (at least two)
   * @param hiddenDim width of h
   * @param rng initialisation stream
   */
  constructor(
    readonly inputDims: number[],
    readonly hiddenDim: number,
    rng: Rng,
    opts: GMUOptions = {},
  ) {
    super();
    if (inputDims.length < 2) {
      throw new Error(`GatedMultimodalUnit needs at least 2 modalities, got ${inputDims.length}`);
    }
    const bias = opts.bias ?? false;
    const total = inputDims.reduce((a, b) => a + b, 0);
    this.outDim = hiddenDim;
    this.nModal = inputDims.length > 2 || (opts.nModal ?? false);
    this.hidden = this.child(
      "hidden",
      new ModuleList(inputDims.map((d) => new Linear(d, hiddenDim, rng, { bias }))),
    );
    if (this.nModal) {
      this.gates = this.child(
        "gates",
        new ModuleList(inputDims.map(() => new Linear(total, hiddenDim, rng, { bias }))),
      );
    } else {
      this.gate = this.child("gate", new Linear(total, hiddenDim, rng, { bias }));
    }
  }

  /** xs[i] [B, d_i] → h [B, hiddenDim] and the gates ([z, 1 − z] bimodal, [z_1 … z_n] n-modal). */
  apply(xs: tf.Tensor[]): FusionOutput {
    checkInputs("GatedMultimodalUnit", this.inputDims, xs);
    const hs = xs.map((x, i) => tf.tanh(this.hidden.at(i).apply(x)));
    const joint = tf.concat(xs, -1);
    if (!this.nModal) {
      const z = tf.sigmoid(this.gate!.apply(joint));
      const zc = tf.sub(1, z);
      return { h: tf.add(tf.mul(z, hs[0]), tf.mul(zc, hs[1])), gates: [z, zc] };
    }
    const zs = this.gates!.items.map((g) => tf.sigmoid(g.apply(joint)));
    return { h: tf.addN(zs.map((z, i) => tf.mul(z, hs[i]))), gates: zs };
  }
}
