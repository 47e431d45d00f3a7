/**
 * Feature-vector encoder and classification head for multimodal models.
 *
 * - {@link MLPEncoder}: x ↦ dropout(act(W_k … dropout(act(W_1 x)))), widths `dims`;
 * - {@link ClassificationHead}: logits = W x + b; softmax cross-entropy for a
 *   single label, sigmoid binary cross-entropy for multi-label.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import { Module } from "./module.ts";
import { ModuleList } from "./module_list.ts";
import { Linear } from "./linear.ts";
import { dropout } from "./dropout.ts";
import { binaryCrossEntropyWithLogits, crossEntropy } from "./losses.ts";

/** Options of {@link MLPEncoder}. */
export interface MLPOptions {
  /** Non-linearity after each layer (default "relu"). */
  activation?: "relu" | "tanh" | "gelu";
}

/** A multi-layer perceptron over a feature vector: parameters `layers.0..k−1`. */
export class MLPEncoder extends Module {
  /** The linear layers. */
  readonly layers: ModuleList<Linear>;
  /** Output width, `dims[dims.length − 1]`. */
  readonly outDim: number;
  readonly #activation: "relu" | "tanh" | "gelu";
  /** The dropout stream (see {@link dropoutState}). */
  readonly dropRng: Rng;

  /**
   * @param dims widths [in, hidden…, out] (at least two)
   * @param dropoutRate dropout after each activation
   * @param rng initialisation and dropout stream
   */
  constructor(
    readonly dims: number[],
    readonly dropoutRate: number,
    rng: Rng,
    opts: MLPOptions = {},
  ) {
    super();
    if (dims.length < 2) {
      throw new Error(`MLPEncoder needs at least [in, out] widths, got [${dims}]`);
    }
    this.layers = this.child(
      "layers",
      new ModuleList(dims.slice(1).map((d, i) => new Linear(dims[i], d, rng))),
    );
    this.outDim = dims[dims.length - 1];
    this.#activation = opts.activation ?? "relu";
    this.dropRng = rng.fork();
  }

  /** x [B, in] → [B, out]. */
  apply(x: tf.Tensor): tf.Tensor {
    for (const layer of this.layers.items) {
      let y = layer.apply(x);
      y = this.#activation === "relu"
        ? tf.relu(y)
        : this.#activation === "tanh"
        ? tf.tanh(y)
        : gelu(y);
      x = dropout(y, this.dropoutRate, this.dropRng, this.training);
    }
    return x;
  }
}

/** GELU, tanh approximation. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** Options of {@link ClassificationHead}. */
export interface ClassificationHeadOptions {
  /** Independent sigmoid per class (multi-label) instead of one softmax. */
  multiLabel?: boolean;
}

/** A linear classifier: parameter `proj` (in → classes). */
export class ClassificationHead extends Module {
  /** The projection. */
  readonly proj: Linear;
  /** Multi-label (sigmoid) or single-label (softmax). */
  readonly multiLabel: boolean;

  /**
   * @param inDim input width
   * @param classes number of classes
   * @param a the initialisation stream, or the options (then `b` is the stream)
   * @param b the options, or the stream
   */
  constructor(
    readonly inDim: number,
    readonly classes: number,
    a: Rng | ClassificationHeadOptions,
    b?: Rng | ClassificationHeadOptions,
  ) {
    super();
    const rng = a instanceof Rng ? a : b instanceof Rng ? b : undefined;
    const opts = (a instanceof Rng ? b : a) as ClassificationHeadOptions | undefined ?? {};
    if (!rng) throw new Error("ClassificationHead needs an Rng for its initial weights");
    this.multiLabel = opts.multiLabel ?? false;
    this.proj = this.child("proj", new Linear(inDim, classes, rng));
  }

  /** x [B, in] → logits [B, classes]. */
  apply(x: tf.Tensor): tf.Tensor {
    return this.proj.apply(x);
  }

  /** Class probabilities from logits: softmax, or sigmoid when multi-label. */
  probabilities(logits: tf.Tensor): tf.Tensor {
    return this.multiLabel ? tf.sigmoid(logits) : tf.softmax(logits, -1);
  }

  /**
   * The mean loss: `targets` int32 class ids [B] (single-label) or float 0/1
   * [B, classes] (multi-label).
   */
  loss(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
    return this.multiLabel
      ? binaryCrossEntropyWithLogits(logits, targets)
      : crossEntropy(logits, targets);
  }
}
