/**
 * What the sequence-to-sequence tasks (copy, length generalization,
 * translation) share: the batch format, the label-smoothed loss, batched
 * greedy decoding, and the positional and attention artifacts.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import type { RunConfig } from "../contract/config.ts";
import { type EncoderDecoder, makeModel } from "../nn/encoder_decoder.ts";
import { paddingMask, targetMask } from "../nn/masks.ts";
import { LabelSmoothing } from "../nn/label_smoothing.ts";
import { lengthBuckets } from "../data/batching.ts";
import { greedyDecode } from "../train/greedy.ts";
import { sequenceAccuracy } from "../metrics/classification.ts";
import { type MetricInfo, UNIT } from "./task.ts";
import { transformerOptions } from "../models/transformer_options.ts";
import { attentionInsight } from "./attention_insight.ts";

/**
 * A batch of source and target ids, row-major and padded with 0.
 * `tgt` starts with the start symbol: the decoder reads `tgt[:, :-1]` and
 * learns to predict `tgt[:, 1:]`, as the Annotated Transformer's `Batch`.
 */
export interface Seq2SeqBatch {
  src: Int32Array;
  tgt: Int32Array;
  rows: number;
  srcLen: number;
  tgtLen: number;
}

/** Builds a {@link Seq2SeqBatch} from id sequences, padding each side to its longest row. */
export function makeSeq2SeqBatch(
  srcs: readonly ArrayLike<number>[],
  tgts: readonly ArrayLike<number>[],
  pad = 0,
): Seq2SeqBatch {
  const srcLen = srcs.reduce((m, s) => Math.max(m, s.length), 0);
  const tgtLen = tgts.reduce((m, s) => Math.max(m, s.length), 0);
  const src = new Int32Array(srcs.length * srcLen).fill(pad);
  const tgt = new Int32Array(tgts.length * tgtLen).fill(pad);
  srcs.forEach((s, r) => src.set(Array.from(s), r * srcLen));
  tgts.forEach((s, r) => tgt.set(Array.from(s), r * tgtLen));
  return { src, tgt, rows: srcs.length, srcLen, tgtLen };
}

/**
 * Training batches of (source, target) pairs, as the corpus tasks draw
 * them: pairs grouped by length (the longer side of each, `lengthBuckets`)
 * into batches of at most `batchSize`, ties and batch order shuffled per
 * epoch by the data stream `<stream>/epoch/<epoch>` of `seed`.
 * `stepsPerEpoch` is the number of batches.
 */
export function bucketedPairBatches(
  srcs: readonly ArrayLike<number>[],
  tgts: readonly ArrayLike<number>[],
  batchSize: number,
  seed: number,
  stream: string,
): { stepsPerEpoch: number; batches: (epoch: number) => Generator<Seq2SeqBatch> } {
  const len = (i: number) => Math.max(srcs[i].length, tgts[i].length);
  return {
    stepsPerEpoch: lengthBuckets(srcs.length, len, batchSize).length,
    *batches(epoch) {
      const r = new Rng(dataSeed(seed, `${stream}/epoch/${epoch}`));
      for (const idx of lengthBuckets(srcs.length, len, batchSize, r)) {
        yield makeSeq2SeqBatch(idx.map((i) => srcs[i]), idx.map((i) => tgts[i]));
      }
    },
  };
}

/** Number of target tokens predicted in a batch (non-padding positions of `tgt[:, 1:]`). */
export function targetTokens(b: Seq2SeqBatch, pad = 0): number {
  let n = 0;
  for (let r = 0; r < b.rows; r++) {
    for (let i = 1; i < b.tgtLen; i++) if (b.tgt[r * b.tgtLen + i] !== pad) n++;
  }
  return n;
}

/**
 * The label-smoothed loss per target token: the library's
 * {@link LabelSmoothing} criterion (the reference's KL form, summed) divided
 * by the number of non-padding targets, as the Annotated Transformer's
 * `SimpleLossCompute` divides by `ntokens`. With ε = 0 this is the NLL.
 * `logProbs` [N, V], `gold` [N] int32.
 */
export function labelSmoothedLoss(
  logProbs: tf.Tensor2D,
  gold: tf.Tensor1D,
  smoothing: number,
  pad = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const criterion = new LabelSmoothing(logProbs.shape[1], pad, smoothing);
    const n = tf.maximum(tf.sum(tf.notEqual(gold, pad).toFloat()), 1);
    return tf.div(criterion.apply(logProbs, gold), n) as tf.Scalar;
  });
}

/** The loss of an encoder–decoder on a batch (see {@link labelSmoothedLoss}). */
export function seq2seqLoss(
  model: EncoderDecoder,
  b: Seq2SeqBatch,
  smoothing: number,
  pad = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const src = tf.tensor2d(b.src, [b.rows, b.srcLen], "int32");
    const tgt = tf.tensor2d(b.tgt, [b.rows, b.tgtLen], "int32");
    const tgtIn = tf.slice(tgt, [0, 0], [b.rows, b.tgtLen - 1]);
    const tgtY = tf.slice(tgt, [0, 1], [b.rows, b.tgtLen - 1]);
    const srcMask = paddingMask(src, pad);
    const out = model.forward(src, tgtIn, srcMask, targetMask(tgtIn, pad));
    const logp = model.generator.apply(out);
    const v = logp.shape[2]!;
    return labelSmoothedLoss(
      logp.reshape([-1, v]) as tf.Tensor2D,
      tgtY.reshape([-1]) as tf.Tensor1D,
      smoothing,
      pad,
    );
  });
}

/**
 * Greedy decoding of a whole batch with the library's {@link greedyDecode}:
 * from `start`, append the most probable next token `steps` times. Returns,
 * per row, the `steps` decoded tokens (the start symbol excluded). The ids are
 * read asynchronously (any backend, WebGPU included).
 */
export async function greedyDecodeBatch(
  model: EncoderDecoder,
  src: Int32Array,
  rows: number,
  srcLen: number,
  steps: number,
  start: number,
  pad = 0,
): Promise<Int32Array[]> {
  const ids = tf.tidy(() => {
    const s = tf.tensor2d(src, [rows, srcLen], "int32");
    return greedyDecode(model, s, paddingMask(s, pad), steps + 1, start);
  });
  let flat: Int32Array;
  try {
    flat = (await ids.data()) as Int32Array;
  } finally {
    ids.dispose();
  }
  const w = steps + 1;
  return Array.from({ length: rows }, (_, r) => flat.slice(r * w + 1, (r + 1) * w));
}

/** The loss of a batch (see {@link seq2seqLoss}) as a number, read asynchronously. */
export async function seq2seqLossValue(
  model: EncoderDecoder,
  b: Seq2SeqBatch,
  smoothing: number,
  pad = 0,
): Promise<number> {
  const l = seq2seqLoss(model, b, smoothing, pad);
  try {
    return (await l.data())[0];
  } finally {
    l.dispose();
  }
}

/** The targets `tgt[:, 1:]` of a batch, one array per row. */
export function batchTargets(b: Seq2SeqBatch): Int32Array[] {
  return Array.from(
    { length: b.rows },
    (_, r) => b.tgt.slice(r * b.tgtLen + 1, (r + 1) * b.tgtLen),
  );
}

/**
 * The per-token loss and the greedy decodes of batches, with their targets.
 * Each row is decoded for as many steps as its batch's target width, so a
 * model must produce every target token (and padding after a shorter target
 * is not scored).
 */
export async function decodeCopyLike(
  model: EncoderDecoder,
  batches: readonly Seq2SeqBatch[],
  smoothing: number,
  start: number,
): Promise<{ loss: number; preds: Int32Array[]; golds: Int32Array[] }> {
  let lossSum = 0, lossTokens = 0;
  const preds: Int32Array[] = [], golds: Int32Array[] = [];
  for (const b of batches) {
    const n = targetTokens(b);
    lossSum += (await seq2seqLossValue(model, b, smoothing)) * n;
    lossTokens += n;
    preds.push(...await greedyDecodeBatch(model, b.src, b.rows, b.srcLen, b.tgtLen - 1, start));
    golds.push(...batchTargets(b));
  }
  return { loss: lossTokens ? lossSum / lossTokens : 0, preds, golds };
}

/** Loss, token accuracy and exact match of greedy decodes over batches (see {@link decodeCopyLike}). */
export async function evaluateCopyLike(
  model: EncoderDecoder,
  batches: readonly Seq2SeqBatch[],
  smoothing: number,
  start: number,
): Promise<{ loss: number; token_accuracy: number; exact_match: number }> {
  const { loss, preds, golds } = await decodeCopyLike(model, batches, smoothing, start);
  const acc = sequenceAccuracy(preds, golds);
  return { loss, token_accuracy: acc.tokenAccuracy, exact_match: acc.exactMatch };
}

/** The metrics of copy-like tasks. */
export const COPY_METRICS: MetricInfo[] = [
  { name: "loss", higherIsBetter: false, description: "label-smoothed loss per target token" },
  {
    name: "token_accuracy",
    higherIsBetter: true,
    description: "fraction of target tokens the greedy decode gets right",
    range: UNIT,
  },
  {
    name: "exact_match",
    higherIsBetter: true,
    description: "fraction of sequences whose greedy decode is entirely right",
    range: UNIT,
  },
];

/** An encoder–decoder for a run's model config. */
export function modelFromConfig(
  config: RunConfig,
  srcVocab: number,
  tgtVocab: number,
  rng: Rng,
): EncoderDecoder {
  return makeModel(srcVocab, tgtVocab, transformerOptions(config.model), rng);
}

/**
 * The `positional` artifact (the table added to the source embeddings for
 * `len` positions) and the `attention` artifact (every encoder self-attention
 * layer's heads on one source sequence), read asynchronously (any backend).
 */
export async function seq2seqInsights(
  model: EncoderDecoder,
  config: RunConfig,
  sample: ArrayLike<number>,
  tokenName: (id: number) => string,
  len: number,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const matrix = await model.srcPositional.readPositionalMatrix(len);
  if (matrix) out.positional = { kind: config.model.positional, matrix };
  out.attention = await attentionInsight(
    model,
    model.encoder.layers.items.map((l) => l.selfAttn),
    sample,
    tokenName,
    (s) => model.encode(s, paddingMask(s)),
  );
  return out;
}

/** A seed for a data stream, derived from a run seed and a stream name. */
export function dataSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of stream) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return Math.imul(h ^ (seed >>> 0), 0x9e3779b1) >>> 0;
}
