/**
 * The copy task of the Annotated Transformer: random sequences
 * `[1, x_1 … x_{L−1}]` with x uniform in [1, V), start symbol 1 and padding
 * 0; the model reads a sequence and must write it back. Greedy decodes are
 * scored per token and as exact copies.
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import type { RunConfig } from "../contract/config.ts";
import type { Task, TaskRun } from "./task.ts";
import {
  COPY_METRICS,
  dataSeed,
  evaluateCopyLike,
  makeSeq2SeqBatch,
  modelFromConfig,
  type Seq2SeqBatch,
  seq2seqInsights,
  seq2seqLoss,
  targetTokens,
} from "./seq2seq.ts";

/** Options of the copy task (`task:` in an experiment file). */
export const CopyOptions = z.strictObject({
  /** Vocabulary size V, padding 0 and start symbol 1 included (11). */
  vocab: z.int().min(3).default(11),
  /** Sequence length L, start symbol included (10). */
  length: z.int().min(2).default(10),
  /** Fresh random batches per epoch, as the reference (20); ignored with `trainSize`. */
  batchesPerEpoch: z.int().min(1).default(20),
  /** A fixed training set of this many sequences instead of fresh ones each epoch. */
  trainSize: z.int().min(1).optional(),
  /** Validation sequences (200). */
  valSize: z.int().min(1).default(200),
  /** Test sequences (200). */
  testSize: z.int().min(1).default(200),
  /** Seed of the data (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the copy task. */
export type CopyOptions = z.infer<typeof CopyOptions>;

/** The start symbol. */
export const START = 1;

/** `n` copy sequences `[1, x_1 … x_{L−1}]`, x uniform in [1, vocab). */
export function copySequences(n: number, length: number, vocab: number, rng: Rng): Int32Array[] {
  return Array.from({ length: n }, () => {
    const s = new Int32Array(length);
    s[0] = START;
    for (let i = 1; i < length; i++) s[i] = rng.int(1, vocab);
    return s;
  });
}

/** Cuts sequences into copy batches (source = target). */
export function copyBatches(seqs: Int32Array[], batchSize: number): Seq2SeqBatch[] {
  const out: Seq2SeqBatch[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) {
    const part = seqs.slice(i, i + batchSize);
    out.push(makeSeq2SeqBatch(part, part));
  }
  return out;
}

/** A learned positional table must hold every position the task uses. */
export function learnedTableCheck(
  config: RunConfig,
  longest: number,
  what: string,
): [string, string][] {
  if (config.model.positional === "learned" && config.model.maxLen < longest) {
    return [[
      "model.maxLen",
      `a learned positional table of ${config.model.maxLen} positions is shorter than ${what} ` +
      `(${longest} positions): raise model.maxLen to at least ${longest} or shorten the sequences`,
    ]];
  }
  return [];
}

/** The copy task. */
export const copyTask: Task<CopyOptions> = {
  name: "copy",
  description: "Copy random token sequences (the Annotated Transformer's synthetic task)",
  options: CopyOptions,
  metrics: COPY_METRICS,
  primary: "exact_match",
  check(config, o) {
    const errs = learnedTableCheck(config, o.length, "the sequence length task.length");
    if (o.vocab < 3) {
      errs.push(["task.vocab", "needs at least 3 tokens (padding, start, one symbol)"]);
    }
    return errs;
  },
  create(config, o, rng) {
    const seed = o.dataSeed ?? config.seed;
    const bs = config.train.batchSize;
    const model = modelFromConfig(config, o.vocab, o.vocab, rng);
    const val = copyBatches(
      copySequences(o.valSize, o.length, o.vocab, new Rng(dataSeed(seed, "copy/val"))),
      100,
    );
    const test = copyBatches(
      copySequences(o.testSize, o.length, o.vocab, new Rng(dataSeed(seed, "copy/test"))),
      100,
    );
    const fixed = o.trainSize
      ? copySequences(o.trainSize, o.length, o.vocab, new Rng(dataSeed(seed, "copy/train")))
      : undefined;
    const smoothing = config.train.labelSmoothing;
    const run: TaskRun<Seq2SeqBatch> = {
      model,
      stepsPerEpoch: fixed ? Math.ceil(fixed.length / bs) : o.batchesPerEpoch,
      *batches(epoch) {
        const r = new Rng(dataSeed(seed, `copy/epoch/${epoch}`));
        if (fixed) {
          yield* copyBatches(r.shuffle([...fixed]), bs);
        } else {
          for (let i = 0; i < o.batchesPerEpoch; i++) {
            const seqs = copySequences(bs, o.length, o.vocab, r);
            yield makeSeq2SeqBatch(seqs, seqs);
          }
        }
      },
      loss: (b) => seq2seqLoss(model, b, smoothing),
      batchSize: (b) => targetTokens(b),
      evaluate(split) {
        return evaluateCopyLike(model, split === "val" ? val : test, smoothing, START);
      },
      insights() {
        const sample = val[0].src.slice(0, val[0].srcLen);
        return seq2seqInsights(model, config, sample, String, o.length);
      },
    };
    return Promise.resolve(run as TaskRun);
  },
};
