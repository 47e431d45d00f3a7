/**
 * Small training workloads built from fuselab's own layers, used to find the
 * kernels its models run (the sweep) and to compare backends step by step:
 *
 * - {@link transformerSteps}: the Annotated Transformer's copy task in
 *   miniature — `makeModel`, padding and target masks, label-smoothed KL,
 *   gradients, Adam with the Noam rate;
 * - {@link gmuSteps}: a bimodal Gated Multimodal Unit over two
 *   masked-mean-pooled token sequences (a reduction over the sequence axis of
 *   a bool-derived mask), a multi-label sigmoid head, Adam.
 *
 * Each returns the loss of every step; all weights and data come from a seed,
 * so two backends run the same numbers.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/util/rng.ts";
import { makeModel } from "../../lib/nn/encoder_decoder.ts";
import { Embeddings } from "../../lib/nn/embeddings.ts";
import { PositionalEncoding, type PositionalKind } from "../../lib/nn/positional.ts";
import { MultiHeadedAttention } from "../../lib/nn/attention.ts";
import { PositionwiseFeedForward } from "../../lib/nn/feed_forward.ts";
import { Encoder, EncoderLayer } from "../../lib/nn/encoder.ts";
import { Generator } from "../../lib/nn/generator.ts";
import { paddingMask, targetMask } from "../../lib/nn/masks.ts";
import { Embedding } from "../../lib/nn/embeddings.ts";
import { Linear } from "../../lib/nn/linear.ts";
import { GatedMultimodalUnit } from "../../lib/fusion/gmu.ts";
import { Adam } from "../../lib/train/adam.ts";
import { valueAndGrads } from "../../lib/train/grads.ts";
import { noamRate } from "../../lib/train/noam.ts";
import { LabelSmoothing } from "../../lib/nn/label_smoothing.ts";
import { binaryCrossEntropyWithLogits, crossEntropy } from "../../lib/nn/losses.ts";

/** Sizes of the miniature Transformer. */
export interface TinyTransformerOptions {
  vocab?: number;
  batch?: number;
  seq?: number;
  dModel?: number;
  dFF?: number;
  h?: number;
  N?: number;
  dropout?: number;
  positional?: PositionalKind;
  norm?: "pre" | "post";
  /** Train on one batch every step (the loss must then fall: proof that updates land). */
  fixedBatch?: boolean;
}

/** Options of {@link gmuSteps}. */
export interface GmuStepsOptions {
  /** Train on one batch every step (the loss must then fall: proof that updates land). */
  fixedBatch?: boolean;
}

/** The generator of a step's batch: the run's own, or a fresh copy of one seed every step. */
function batchRng(rng: Rng, seed: number, fixed: boolean | undefined): Rng {
  return fixed ? new Rng(seed + 0x5eed) : rng;
}

/** Random token ids in [1, vocab) with a padded tail on odd rows (pad = 0). */
function tokens(rng: Rng, batch: number, seq: number, vocab: number): tf.Tensor2D {
  const ids = new Int32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const len = b % 2 ? seq - 2 : seq;
    for (let t = 0; t < len; t++) ids[b * seq + t] = rng.int(1, vocab);
  }
  return tf.tensor2d(ids, [batch, seq], "int32");
}

/**
 * `steps` training steps of a tiny encoder–decoder on the copy task; returns
 * the loss per token of each step (read after each step).
 */
export async function transformerSteps(
  steps: number,
  seed = 1,
  o: TinyTransformerOptions = {},
): Promise<number[]> {
  const V = o.vocab ?? 11, B = o.batch ?? 2, T = o.seq ?? 6, d = o.dModel ?? 16;
  const rng = new Rng(seed);
  const model = makeModel(V, V, {
    N: o.N ?? 1,
    dModel: d,
    dFF: o.dFF ?? 32,
    h: o.h ?? 2,
    dropout: o.dropout ?? 0.1,
    positional: o.positional,
    norm: o.norm,
  }, rng);
  const adam = new Adam(model.trainableParameters());
  const crit = new LabelSmoothing(V, 0, 0.1);
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const src = tokens(batchRng(rng, seed, o.fixedBatch), B, T, V);
      const tgtIn = src.slice([0, 0], [B, T - 1]);
      const tgtY = src.slice([0, 1], [B, T - 1]);
      const srcMask = paddingMask(src), tgtMask = targetMask(tgtIn);
      const nTokens = (await tf.notEqual(tgtY, 0).sum().data())[0];
      const { value, grads } = valueAndGrads(model, () => {
        const out = model.forward(src, tgtIn, srcMask, tgtMask);
        return tf.div(crit.apply(model.generator.apply(out), tgtY.reshape([-1])), nTokens);
      });
      adam.apply(grads, noamRate(s + 1, d, 1, 4));
      losses.push((await value.data())[0]);
      tf.dispose([src, tgtIn, tgtY, srcMask, tgtMask, value, grads]);
    }
  } finally {
    adam.dispose();
    model.dispose();
  }
  return losses;
}

/**
 * `steps` training steps of a GMU classifier over two token sequences, each
 * embedded and mean-pooled over its non-padding positions; returns the loss
 * (sigmoid BCE over 3 labels + softmax CE of the first label) of each step.
 */
export async function gmuSteps(
  steps: number,
  seed = 2,
  o: GmuStepsOptions = {},
): Promise<number[]> {
  const rng = new Rng(seed);
  const V = 13, B = 4, T = 5, d1 = 6, d2 = 4, hid = 8, C = 3;
  const emb1 = new Embedding(V, d1, rng), emb2 = new Embedding(V, d2, rng);
  const gmu = new GatedMultimodalUnit([d1, d2], hid, rng);
  const head = new Linear(hid, C, rng);
  const params = [emb1, emb2, gmu, head].flatMap((m, i) =>
    m.trainableParameters().map(([n, v]) => [`${i}.${n}`, v] as [string, tf.Variable])
  );
  const adam = new Adam(params, { weightDecay: 0.01 });
  const pool = (ids: tf.Tensor2D, e: Embedding) => {
    const mask = tf.cast(tf.notEqual(ids, 0), "float32").expandDims(2); // bool → float
    return tf.div(tf.sum(tf.mul(e.apply(ids), mask), 1), tf.maximum(tf.sum(mask, 1), 1));
  };
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const r = batchRng(rng, seed, o.fixedBatch);
      const a = tokens(r, B, T, V), b = tokens(r, B, T, V);
      const y = tf.tensor2d(Array.from({ length: B * C }, () => r.int(0, 2)), [B, C], "float32");
      const label = tf.argMax(y, 1);
      const { value, grads } = valueAndGrads(params, () => {
        const { h } = gmu.apply([pool(a, emb1), pool(b, emb2)]);
        const logits = head.apply(h);
        return tf.add(binaryCrossEntropyWithLogits(logits, y), crossEntropy(logits, label));
      });
      adam.apply(grads, 0.05);
      losses.push((await value.data())[0]);
      tf.dispose([a, b, y, label, value, grads]);
    }
  } finally {
    adam.dispose();
    for (const m of [emb1, emb2, gmu, head]) m.dispose();
  }
  return losses;
}

/**
 * One step of each workload the kernel sweep records: the Transformer with
 * sinusoid/pre-norm, RoPE/post-norm, ALiBi and learned positions, and the GMU.
 */
export async function sweepWorkloads(): Promise<void> {
  await transformerSteps(1);
  await transformerSteps(1, 2, { positional: "rope", norm: "post" });
  await transformerSteps(1, 3, { positional: "alibi" });
  await transformerSteps(1, 4, { positional: "learned" });
  await gmuSteps(1);
}

/** The GPU bench model's sizes (tools/torch_gpu_bench.py builds the same model). */
export interface BenchOptions {
  vocab: number;
  dModel: number;
  h: number;
  dFF: number;
  layers: number;
  seq: number;
  batch: number;
  dropout: number;
}

/** d_model 256, 8 heads, d_ff 1024, 2 encoder layers, seq 64, batch 32, vocab 1000, no dropout. */
export const BENCH_DEFAULTS: BenchOptions = {
  vocab: 1000,
  dModel: 256,
  h: 8,
  dFF: 1024,
  layers: 2,
  seq: 64,
  batch: 32,
  dropout: 0,
};

/**
 * The bench model: token embeddings and sinusoidal positions, a pre-norm
 * Transformer encoder and the generator (linear + log-softmax), trained to
 * predict each token's successor (NLL, computed as the cross-entropy of the
 * generator's logits) with Adam. `step()` runs
 * forward + backward + Adam and returns the loss (read, so the GPU work is done).
 */
export class BenchModel {
  readonly embed: Embeddings;
  readonly pos: PositionalEncoding;
  readonly encoder: Encoder;
  readonly generator: Generator;
  readonly adam: Adam;
  readonly params: [string, tf.Variable][];
  #rng: Rng;

  /** @param o sizes; @param seed weights and data seed */
  constructor(readonly o: BenchOptions = BENCH_DEFAULTS, seed = 3) {
    const rng = this.#rng = new Rng(seed);
    const d = o.dModel, p = o.dropout;
    this.embed = new Embeddings(o.vocab, d, rng);
    this.pos = new PositionalEncoding(d, p, rng);
    this.encoder = new Encoder(
      Array.from({ length: o.layers }, () =>
        new EncoderLayer(
          d,
          new MultiHeadedAttention(o.h, d, p, rng),
          new PositionwiseFeedForward(d, o.dFF, p, rng),
          p,
          rng,
        )),
    );
    this.generator = new Generator(d, o.vocab, rng);
    this.params = [
      ["embed", this.embed],
      ["encoder", this.encoder],
      ["generator", this.generator],
    ].flatMap(([n, m]) =>
      (m as Embeddings).trainableParameters().map(([k, v]) =>
        [`${n}.${k}`, v] as [string, tf.Variable]
      )
    );
    this.adam = new Adam(this.params);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.params.reduce((s, [, v]) => s + v.size, 0);
  }

  /** One training step on a fresh random batch; resolves to the loss. */
  step(lr = 1e-3): Promise<number> {
    return this.issue(lr);
  }

  /**
   * Records one training step and starts reading its loss, without waiting
   * for it: the returned promise resolves when the GPU has finished the step.
   * Issuing the next step before awaiting this one keeps the GPU busy while a
   * read is in flight (Deno resolves GPU reads about every 11 ms).
   */
  issue(lr = 1e-3): Promise<number> {
    const value = this.record(lr);
    return value.data().then((d) => d[0], (e) => Promise.reject(e)).finally(() => value.dispose());
  }

  /**
   * Records one training step and returns its loss as a tensor, unread (the
   * caller disposes it): a loop that reads losses only now and then, as a
   * training loop logging every few steps does, never waits for the GPU.
   */
  record(lr = 1e-3): tf.Scalar {
    const { batch: B, seq: T, vocab: V } = this.o;
    const ids = new Int32Array(B * (T + 1));
    for (let i = 0; i < ids.length; i++) ids[i] = this.#rng.int(0, V);
    const all = tf.tensor2d(ids, [B, T + 1], "int32");
    const x = all.slice([0, 0], [B, T]), y = all.slice([0, 1], [B, T]);
    const { value, grads } = valueAndGrads(this.params, () =>
      tf.tidy(() => {
        const h = this.encoder.apply(this.pos.apply(this.embed.apply(x)));
        // NLL of the generator's log-softmax, as one fused cross-entropy on its logits.
        const logits = this.generator.proj.apply(h).reshape([B * T, V]);
        return crossEntropy(logits, y.reshape([-1]));
      }));
    this.adam.apply(grads, lr);
    tf.dispose([all, x, y, grads]);
    return value;
  }

  /** Frees the weights and the optimiser state. */
  dispose(): void {
    this.adam.dispose();
    for (const m of [this.embed, this.pos, this.encoder, this.generator]) m.dispose();
  }
}
