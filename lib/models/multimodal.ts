/**
 * `MultimodalClassifier`: one encoder per modality, a fusion, a head.
 *
 *   vector x_m [F_m]          → MLPEncoder(F_m → … → fusionDim)
 *   tokens  [T_m] (0 = pad)   → SequenceEncoder (Embeddings, positions, N layers, mean pool)
 *   frames  [T_m, F_m]        → SequenceEncoder (Linear, positions, N layers, masked mean pool)
 *   [e_1 … e_n] → fusion (gmu | concat | sum | late) → softmax or sigmoid head
 *
 * Sequence encoders take the run's Transformer settings (layers, d_model,
 * heads, d_ff, positional encoding, norm placement, dropout), so that those
 * ablations apply inside a fused model. Batches are plain data
 * ({@link MultimodalBatch}); tensors are made in {@link MultimodalClassifier.forward}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/rng.ts";
import type { ModelConfig } from "../contract/config.ts";
import { transformerOptions } from "./transformer_options.ts";
import { Module } from "../nn/module.ts";
import { ModuleList } from "../nn/module_list.ts";
import { MLPEncoder } from "../nn/mlp.ts";
import { SequenceEncoder } from "../nn/seq_encoder.ts";
import type { PositionalStage } from "../nn/positional.ts";
import { FusionClassifier, type FusionPrediction, makeFusion } from "../fusion/classifier.ts";

/** What one modality is made of. */
export type ModalitySpec =
  | { name: string; kind: "vector"; dim: number }
  | { name: string; kind: "tokens"; vocab: number }
  | { name: string; kind: "frames"; features: number };

/** One modality's part of a batch, as plain data. */
export type ModalityBatch =
  /** `data` [rows, dim]. */
  | { kind: "vector"; data: Float32Array; dim: number }
  /** `data` [rows, len] token ids, 0 = padding. */
  | { kind: "tokens"; data: Int32Array; len: number }
  /** `data` [rows, len, features]; `lengths[r]` real frames in row r (the rest is padding). */
  | { kind: "frames"; data: Float32Array; len: number; features: number; lengths: Int32Array };

/** A multimodal batch: per-modality inputs and the labels. */
export interface MultimodalBatch {
  rows: number;
  modalities: ModalityBatch[];
  /** Class ids [rows] (single-label) or 0/1 [rows, classes] (multi-label). */
  labels: Int32Array | Float32Array;
  /** Which modality carried the class, per row (synthetic data only). */
  informative?: Int32Array;
}

/** What {@link MultimodalClassifier.predictAsync} returns. */
export interface MultimodalPrediction {
  /** Probabilities [rows, classes], row-major. */
  probs: Float32Array;
  /** Mean gate activation per modality [rows, n] (GMU only). */
  gates?: Float32Array;
}

/** Options of {@link MultimodalClassifier}. */
export interface MultimodalClassifierOptions {
  /** Sigmoid outputs and binary cross-entropy (multi-label) instead of softmax. */
  multiLabel?: boolean;
  /** Hidden widths of each vector modality's MLP before the fusion width (default none: one layer). */
  mlpHidden?: number[];
}

/** Per-modality encoders (`encoders.i`), then fusion and head (`classifier.*`). */
export class MultimodalClassifier extends Module {
  /** One encoder per modality, in order. */
  readonly encoders: ModuleList<MLPEncoder | SequenceEncoder>;
  /** Fusion and head. */
  readonly classifier: FusionClassifier;

  /**
   * @param modalities the inputs, in order
   * @param classes number of classes (labels for multi-label)
   * @param model the run's model config (fusion, fusionDim, Transformer settings)
   * @param rng initialisation and dropout stream
   */
  constructor(
    readonly modalities: ModalitySpec[],
    readonly classes: number,
    model: ModelConfig,
    rng: Rng,
    opts: MultimodalClassifierOptions = {},
  ) {
    super();
    if (modalities.length < 2 && model.fusion !== "late") {
      // A single modality still works with every fusion but GMU's gate needs two.
      if (model.fusion === "gmu") {
        throw new Error(`GMU fusion needs at least 2 modalities, got ${modalities.length}`);
      }
    }
    const seq = (o: { vocab?: number; features?: number }) =>
      new SequenceEncoder({ ...o, ...transformerOptions(model) }, rng);
    const encoders = modalities.map((m) =>
      m.kind === "vector"
        ? new MLPEncoder([m.dim, ...(opts.mlpHidden ?? []), model.fusionDim], model.dropout, rng)
        : m.kind === "tokens"
        ? seq({ vocab: m.vocab })
        : seq({ features: m.features })
    );
    this.encoders = this.child("encoders", new ModuleList(encoders));
    const multiLabel = opts.multiLabel ?? false;
    const fusion = makeFusion(
      model.fusion,
      encoders.map((e) => e.outDim),
      model.fusionDim,
      rng,
      { classes, multiLabel },
    );
    this.classifier = this.child(
      "classifier",
      new FusionClassifier(fusion, classes, rng, multiLabel),
    );
  }

  /** Whether the fusion has gates (GMU). */
  get gated(): boolean {
    return this.classifier.fusion.kind === "gmu";
  }

  /** Per-modality tensors → encodings [B, d_m] (call inside `tf.tidy`). */
  encode(batch: MultimodalBatch): tf.Tensor[] {
    const b = batch.rows;
    return batch.modalities.map((m, i) => {
      const enc = this.encoders.at(i);
      const spec = this.modalities[i];
      if (m.kind !== spec.kind) {
        throw new Error(`modality ${i} (${spec.name}) should be ${spec.kind} input, got ${m.kind}`);
      }
      if (m.kind === "vector") return enc.apply(tf.tensor2d(m.data, [b, m.dim]));
      if (m.kind === "tokens") return enc.apply(tf.tensor2d(m.data, [b, m.len], "int32"));
      const mask = framesMask(m.lengths, m.len);
      return (enc as SequenceEncoder).apply(tf.tensor3d(m.data, [b, m.len, m.features]), mask);
    });
  }

  /** A batch → probabilities, gates and the loss (call inside `tf.tidy`). */
  forward(batch: MultimodalBatch): FusionPrediction {
    return this.classifier.apply(this.encode(batch));
  }

  /** The loss of a batch against its labels. */
  loss(batch: MultimodalBatch): tf.Scalar {
    return tf.tidy(() => {
      const pred = this.forward(batch);
      const t = batch.labels instanceof Int32Array
        ? tf.tensor1d(batch.labels, "int32")
        : tf.tensor2d(batch.labels, [batch.rows, this.classes]);
      return pred.loss(t);
    });
  }

  /** The probabilities [rows, classes] and, for a GMU, the mean gates [rows, n] as tensors. */
  #predictTensors(batch: MultimodalBatch): { probs: tf.Tensor; gates?: tf.Tensor } {
    return tf.tidy(() => {
      const pred = this.forward(batch);
      if (!pred.gates.length) return { probs: pred.probs };
      return { probs: pred.probs, gates: tf.stack(pred.gates.map((z) => tf.mean(z, -1)), 1) };
    });
  }

  /**
   * Probabilities [rows, classes] and, for a GMU, the mean gate activation
   * per modality [rows, n] (the mean over the hidden units of z_m), read
   * asynchronously: works on every backend, WebGPU included.
   */
  async predictAsync(batch: MultimodalBatch): Promise<MultimodalPrediction> {
    const t = this.#predictTensors(batch);
    try {
      const probs = Float32Array.from(await t.probs.data());
      if (!t.gates) return { probs };
      return { probs, gates: Float32Array.from(await t.gates.data()) };
    } finally {
      tf.dispose([t.probs, ...(t.gates ? [t.gates] : [])]);
    }
  }

  /**
   * Same as {@link MultimodalClassifier.predictAsync}, read synchronously:
   * CPU backends only (cpu, wasm, blas); a GPU tensor cannot be read
   * synchronously in Deno.
   */
  predict(batch: MultimodalBatch): MultimodalPrediction {
    const t = this.#predictTensors(batch);
    try {
      const probs = Float32Array.from(t.probs.dataSync());
      if (!t.gates) return { probs };
      return { probs, gates: Float32Array.from(t.gates.dataSync()) };
    } finally {
      tf.dispose([t.probs, ...(t.gates ? [t.gates] : [])]);
    }
  }

  /** The positional stage of the first sequence modality, if any. */
  positionalStage(): PositionalStage | undefined {
    for (const e of this.encoders.items) if (e instanceof SequenceEncoder) return e.positionalStage;
    return undefined;
  }
}

/** The mask [B, 1, T] of frame sequences: 1 for the first `lengths[r]` frames. */
export function framesMask(lengths: Int32Array, len: number): tf.Tensor3D {
  const m = new Float32Array(lengths.length * len);
  lengths.forEach((l, r) => m.fill(1, r * len, r * len + Math.min(l, len)));
  return tf.tensor3d(m, [lengths.length, 1, len]);
}
