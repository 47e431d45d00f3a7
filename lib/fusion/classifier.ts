/**
 * A fusion followed by a classification head, for any {@link Fusion}: the
 * usual way a multimodal model ends.
 *
 * - gated and early fusions: probs = softmax/sigmoid(head(fusion(xs).h)),
 *   loss on the head's logits;
 * - late fusion: probs = mean of the per-modality probabilities, loss = mean
 *   of the per-modality losses (no extra head).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import { Module } from "../nn/module.ts";
import { ClassificationHead } from "../nn/mlp.ts";
import type { Fusion } from "./fusion.ts";
import { GatedMultimodalUnit } from "./gmu.ts";
import { ConcatFusion, LateFusion, SumFusion } from "./baselines.ts";

/**
 * Fusions a multimodal model can use: the one list that the config schema
 * (`model.fusion`) and {@link makeFusion} both read.
 */
export const FUSION_KINDS = ["gmu", "concat", "sum", "late"] as const;
/** Fusions selectable by name (as `model.fusion` in a config). */
export type FusionKind = typeof FUSION_KINDS[number];

/** Options of {@link makeFusion}. */
export interface MakeFusionOptions {
  /** Number of classes (needed by late fusion). */
  classes: number;
  /** Multi-label outputs (late fusion's heads). */
  multiLabel?: boolean;
  /** Force the GMU's n-modal form for two inputs. */
  nModal?: boolean;
}

/** Builds a fusion by name. */
export function makeFusion(
  kind: FusionKind,
  inputDims: number[],
  hiddenDim: number,
  rng: Rng,
  opts: MakeFusionOptions,
): Fusion {
  switch (kind) {
    case "gmu":
      return new GatedMultimodalUnit(inputDims, hiddenDim, rng, { nModal: opts.nModal });
    case "concat":
      return new ConcatFusion(inputDims, hiddenDim, rng);
    case "sum":
      return new SumFusion(inputDims, hiddenDim, rng);
    case "late":
      return new LateFusion(inputDims, opts.classes, rng, { multiLabel: opts.multiLabel });
    default:
      throw new Error(`unknown fusion "${kind}": use gmu, concat, sum or late`);
  }
}

/** Output of {@link FusionClassifier.apply}. */
export interface FusionPrediction {
  /** Class probabilities [B, classes]. */
  probs: tf.Tensor;
  /** Gate activations per modality (GMU), else empty. */
  gates: tf.Tensor[];
  /** The mean training loss against `targets`. */
  loss(targets: tf.Tensor): tf.Scalar;
}

/** Fusion plus head: parameters `fusion.*` and (unless late) `head.*`. */
export class FusionClassifier extends Module {
  /** The fusion. */
  readonly fusion: Fusion;
  /** The head (absent for late fusion). */
  readonly head?: ClassificationHead;

  /** @param fusion a fusion @param classes classes @param multiLabel sigmoid outputs */
  constructor(fusion: Fusion, readonly classes: number, rng: Rng, readonly multiLabel = false) {
    super();
    this.fusion = this.child("fusion", fusion);
    if (fusion.produces === "hidden") {
      this.head = this.child(
        "head",
        new ClassificationHead(fusion.outDim, classes, rng, { multiLabel }),
      );
    } else if (fusion.outDim !== classes) {
      throw new Error(`late fusion predicts ${fusion.outDim} classes, the head expects ${classes}`);
    }
  }

  /** Per-modality vectors → probabilities, gates and a loss function. */
  apply(xs: tf.Tensor[]): FusionPrediction {
    const out = this.fusion.apply(xs);
    if (!this.head) {
      const late = this.fusion as LateFusion;
      return { probs: out.h, gates: out.gates, loss: (t) => late.loss(out, t) };
    }
    const head = this.head;
    const logits = head.apply(out.h);
    return {
      probs: head.probabilities(logits),
      gates: out.gates,
      loss: (t) => head.loss(logits, t),
    };
  }
}

/**
 * Mean gate activation per modality over a batch (for logging): one number
 * per gate, read asynchronously (works on every backend, WebGPU included).
 */
export async function readMeanGates(gates: tf.Tensor[]): Promise<number[]> {
  if (!gates.length) return [];
  const means = tf.tidy(() => tf.stack(gates.map((g) => tf.mean(g))));
  try {
    return Array.from(await means.data());
  } finally {
    means.dispose();
  }
}

/**
 * Same as {@link readMeanGates}, read synchronously: CPU backends only (cpu,
 * wasm, blas); a GPU tensor cannot be read synchronously in Deno.
 */
export function meanGates(gates: tf.Tensor[]): number[] {
  return gates.map((g) => tf.tidy(() => tf.mean(g).dataSync()[0]));
}
