/**
 * The bench model, built from fuselab's own modules: token embeddings and the
 * sinusoid positional encoding, N pre-norm Transformer encoder layers, the
 * generator, token-level cross-entropy; one training step is forward,
 * backward and an Adam update. `tools/torch_bench.py` builds the same model
 * in PyTorch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../lib/util/rng.ts";
import {
  Embeddings,
  Encoder,
  EncoderLayer,
  Generator,
  Module,
  MultiHeadedAttention,
  PositionalEncoding,
  PositionwiseFeedForward,
} from "../lib/nn/mod.ts";
import { Adam } from "../lib/train/adam.ts";
import { valueAndGrads } from "../lib/train/grads.ts";
import { crossEntropy } from "../lib/nn/losses.ts";

/** The shape of a bench model and its batches. */
export interface BenchShape {
  dModel: number;
  heads: number;
  dFF: number;
  layers: number;
  seq: number;
  batch: number;
  vocab: number;
  dropout: number;
}

/** The bench model: 2 layers of width 256, sequence 64, batch 32, vocabulary 1000. */
export const BENCH_SHAPE: BenchShape = {
  dModel: 256,
  heads: 8,
  dFF: 1024,
  layers: 2,
  seq: 64,
  batch: 32,
  vocab: 1000,
  dropout: 0,
};

/** Embeddings → positional encoding → encoder → generator. */
export class BenchModel extends Module {
  readonly embed: Embeddings;
  readonly pos: PositionalEncoding;
  readonly encoder: Encoder;
  readonly generator: Generator;

  constructor(readonly shape: BenchShape, rng: Rng) {
    super();
    const s = shape;
    this.embed = this.child("embed", new Embeddings(s.vocab, s.dModel, rng));
    this.pos = this.child("pos", new PositionalEncoding(s.dModel, s.dropout, rng));
    const layers = Array.from({ length: s.layers }, () =>
      new EncoderLayer(
        s.dModel,
        new MultiHeadedAttention(s.heads, s.dModel, s.dropout, rng),
        new PositionwiseFeedForward(s.dModel, s.dFF, s.dropout, rng),
        s.dropout,
        rng,
      ));
    this.encoder = this.child("encoder", new Encoder(layers));
    this.generator = this.child("generator", new Generator(s.dModel, s.vocab, rng));
  }

  /** Mean token cross-entropy of predicting `targets` [B, T] from `ids` [B, T]. */
  loss(ids: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
    const h = this.encoder.apply(this.pos.apply(this.embed.apply(ids)), mask);
    const logits = this.generator.proj.apply(h);
    return crossEntropy(logits, targets);
  }
}

/** A bench model with its optimizer and a fixed random batch. */
export interface BenchTrainer {
  model: BenchModel;
  /** One training step; returns the loss (read back, so the step has finished). */
  step(): number;
  dispose(): void;
}

/**
 * Builds the model, Adam and a batch of random tokens (seeded). `fused: false`
 * turns off Adam's fused wasm update (to measure what it saves).
 */
export function makeTrainer(
  shape: BenchShape,
  seed = 0,
  opts: { fused?: boolean } = {},
): BenchTrainer {
  const rng = new Rng(seed);
  const model = new BenchModel(shape, rng);
  const params = model.trainableParameters();
  const adam = new Adam(params, { fused: opts.fused ?? true });
  const n = shape.batch * shape.seq;
  const tok = Int32Array.from({ length: n }, () => rng.int(1, shape.vocab));
  const tgt = Int32Array.from({ length: n }, () => rng.int(1, shape.vocab));
  const ids = tf.tensor2d(tok, [shape.batch, shape.seq], "int32");
  const targets = tf.tensor2d(tgt, [shape.batch, shape.seq], "int32");
  const mask = tf.ones([shape.batch, 1, shape.seq]);
  return {
    model,
    step() {
      const { value, grads } = valueAndGrads(params, () => model.loss(ids, targets, mask));
      adam.apply(grads, 1e-4);
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    },
    dispose() {
      adam.dispose();
      model.dispose();
      tf.dispose([ids, targets, mask]);
    },
  };
}
