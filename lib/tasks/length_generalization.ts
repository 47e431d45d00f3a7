/**
 * Length generalization: copy sequences of 1…L symbols in training, then
 * copy longer ones (by default L, 2L, 3L and 4L) at evaluation. This is where
 * positional encodings differ: a sinusoid is defined everywhere, a learned
 * table only up to `model.maxLen` (checked before training), and none, RoPE
 * or ALiBi carry position differently.
 *
 * A sequence of n symbols is `[1, x_1 … x_n]` with x uniform in [2, V) (the
 * start symbol 1 never appears inside); the model decodes exactly n symbols
 * after the start symbol.
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import { type MetricInfo, type Metrics, type Task, type TaskRun, UNIT } from "./task.ts";
import {
  COPY_METRICS,
  dataSeed,
  decodeCopyLike,
  makeSeq2SeqBatch,
  modelFromConfig,
  type Seq2SeqBatch,
  seq2seqInsights,
  seq2seqLoss,
  targetTokens,
} from "./seq2seq.ts";
import { learnedTableCheck, START } from "./copy.ts";
import { sequenceAccuracy } from "../metrics/classification.ts";
import {
  accuracyFrom,
  addPositionCounts,
  positionAccuracy,
  type PositionCounts,
  positionCounts,
} from "../metrics/position.ts";

/** Options of the length-generalization task. */
export const LengthGeneralizationOptions = z.strictObject({
  /** Vocabulary size, padding and start symbol included (12). */
  vocab: z.int().min(3).default(12),
  /** Shortest training sequence, in symbols (1). */
  minTrainLength: z.int().min(1).default(1),
  /** Longest training sequence L, in symbols (8). */
  maxTrainLength: z.int().min(1).default(8),
  /** Evaluation lengths in symbols (default L, 2L, 3L, 4L). */
  evalLengths: z.array(z.int().min(1)).min(1).optional(),
  /** Training batches per epoch (20). */
  batchesPerEpoch: z.int().min(1).default(20),
  /** Validation sequences per evaluation length (64). */
  valSize: z.int().min(1).default(64),
  /** Test sequences per evaluation length (64). */
  testSize: z.int().min(1).default(64),
  /** Seed of the data (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the length-generalization task. */
export type LengthGeneralizationOptions = z.infer<typeof LengthGeneralizationOptions>;

/** The evaluation lengths of resolved options. */
export function evalLengths(o: LengthGeneralizationOptions): number[] {
  const L = o.maxTrainLength;
  return o.evalLengths ?? [L, 2 * L, 3 * L, 4 * L];
}

/** `n` sequences `[1, x_1 … x_len]`, with `len` drawn by `lengthOf`. */
export function symbolSequences(
  n: number,
  lengthOf: (rng: Rng) => number,
  vocab: number,
  rng: Rng,
): Int32Array[] {
  return Array.from({ length: n }, () => {
    const len = lengthOf(rng);
    const s = new Int32Array(len + 1);
    s[0] = START;
    for (let i = 1; i <= len; i++) s[i] = rng.int(2, vocab);
    return s;
  });
}

/**
 * The error when the training lengths are empty (`task.minTrainLength` above
 * `task.maxTrainLength`), for the tasks that draw lengths from that range.
 */
export function trainLengthCheck(
  o: { minTrainLength: number; maxTrainLength: number },
): [string, string][] {
  if (o.minTrainLength <= o.maxTrainLength) return [];
  return [[
    "task.minTrainLength",
    `is ${o.minTrainLength}, more than task.maxTrainLength ${o.maxTrainLength}`,
  ]];
}

/** The greedy decodes at one evaluation length, and the loss there (per token). */
export interface LengthDecode {
  /** The evaluation length. */
  len: number;
  /** Predicted outputs, one per sequence. */
  preds: ArrayLike<number>[];
  /** Their targets. */
  golds: ArrayLike<number>[];
  /** Loss per token at this length. */
  loss: number;
}

/** The per-length curves of an evaluation (the `length_generalization` insight). */
export interface LengthCurves {
  /** The evaluation lengths, in order. */
  lengths: number[];
  /** exact_match, token_accuracy and loss at each length. */
  metrics: Record<"exact_match" | "token_accuracy" | "loss", number[]>;
  /** Output positions 1 … the longest target. */
  positions: number[];
  /** Token accuracy per output position, pooled over the lengths. */
  byPosition: { token_accuracy: number[] };
  /** The longest training length L. */
  trainLength: number;
}

/**
 * The scores of decodes at the evaluation lengths: `exact_match@n`,
 * `token_accuracy@n` and `loss@n` at each length n; their means over the
 * lengths (`exact_match`, …); and, where some length n exceeds the training
 * length L, the means over those lengths (`exact_match_ood`,
 * `token_accuracy_ood`) and the token accuracy at output positions ≥ L
 * pooled over them (`token_accuracy_beyond`). The curves are the same
 * numbers per length and per output position.
 */
export function lengthScores(
  decodes: readonly LengthDecode[],
  trainLength: number,
): { metrics: Metrics; curves: LengthCurves } {
  const out: Metrics = {};
  const per = {
    exact_match: [] as number[],
    token_accuracy: [] as number[],
    loss: [] as number[],
  };
  const ood = { exact_match: [] as number[], token_accuracy: [] as number[] };
  let all: PositionCounts = { correct: [], total: [] };
  let beyond: PositionCounts = { correct: [], total: [] };
  for (const { len, preds, golds, loss } of decodes) {
    const acc = sequenceAccuracy(preds, golds);
    const m = { exact_match: acc.exactMatch, token_accuracy: acc.tokenAccuracy, loss };
    for (const k of ["exact_match", "token_accuracy", "loss"] as const) {
      out[`${k}@${len}`] = m[k];
      per[k].push(m[k]);
    }
    const counts = positionCounts(preds, golds);
    all = addPositionCounts(all, counts);
    if (len > trainLength) {
      ood.exact_match.push(m.exact_match);
      ood.token_accuracy.push(m.token_accuracy);
      beyond = addPositionCounts(beyond, counts);
    }
  }
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  out.exact_match = mean(per.exact_match);
  out.token_accuracy = mean(per.token_accuracy);
  out.loss = mean(per.loss);
  if (ood.exact_match.length) {
    out.exact_match_ood = mean(ood.exact_match);
    out.token_accuracy_ood = mean(ood.token_accuracy);
    out.token_accuracy_beyond = accuracyFrom(beyond, trainLength);
  }
  const curves: LengthCurves = {
    lengths: decodes.map((d) => d.len),
    metrics: per,
    positions: all.total.map((_, i) => i + 1),
    byPosition: { token_accuracy: positionAccuracy(all) },
    trainLength,
  };
  return { metrics: out, curves };
}

const EVAL_BATCH = 64;

function evalSets(o: LengthGeneralizationOptions, seed: number, split: string, size: number) {
  return evalLengths(o).map((len) => {
    const seqs = symbolSequences(
      size,
      () => len,
      o.vocab,
      new Rng(dataSeed(seed, `lg/${split}/${len}`)),
    );
    const batches: Seq2SeqBatch[] = [];
    for (let i = 0; i < seqs.length; i += EVAL_BATCH) {
      const part = seqs.slice(i, i + EVAL_BATCH);
      batches.push(makeSeq2SeqBatch(part, part));
    }
    return { len, batches };
  });
}

const METRICS: MetricInfo[] = [
  ...COPY_METRICS.map((m) => ({
    ...m,
    description: `${m.description}, mean over the evaluation lengths`,
  })),
  {
    name: "exact_match_ood",
    higherIsBetter: true,
    description: "exact match, mean over evaluation lengths longer than the training lengths",
    range: UNIT,
  },
  {
    name: "token_accuracy_ood",
    higherIsBetter: true,
    description: "token accuracy, mean over evaluation lengths longer than the training lengths",
    range: UNIT,
  },
  {
    name: "token_accuracy_beyond",
    higherIsBetter: true,
    description: "token accuracy at output positions beyond the longest training length " +
      "(positions never produced in training), pooled over the longer evaluation sequences",
  },
  {
    name: "exact_match@<length>",
    higherIsBetter: true,
    description: "exact match at an evaluation length",
  },
  {
    name: "token_accuracy@<length>",
    higherIsBetter: true,
    description: "token accuracy at an evaluation length",
  },
  // Per-length metrics for the default lengths (maxTrainLength 8): other lengths are
  // reported the same way (`exact_match@<n>`, `token_accuracy@<n>`, `loss@<n>`).
  ...[8, 16, 24, 32].flatMap((n) => [
    {
      name: `exact_match@${n}`,
      higherIsBetter: true,
      description: `exact match at evaluation length ${n}`,
      range: UNIT,
    },
    {
      name: `token_accuracy@${n}`,
      higherIsBetter: true,
      description: `token accuracy at evaluation length ${n}`,
      range: UNIT,
    },
  ]),
];

/** The length-generalization task. */
export const lengthGeneralizationTask: Task<LengthGeneralizationOptions> = {
  name: "length_generalization",
  description: "Copy sequences longer than any seen in training (positional-encoding ablations)",
  options: LengthGeneralizationOptions,
  metrics: METRICS,
  primary: "exact_match_ood",
  check(config, o) {
    const errs = trainLengthCheck(o);
    const longest = Math.max(o.maxTrainLength, ...evalLengths(o)) + 1;
    const table = learnedTableCheck(config, longest, "the longest evaluation sequence");
    if (table.length) {
      const fit = config.model.maxLen - 1;
      table[0][1] +=
        ` (with model.maxLen ${config.model.maxLen}, task.evalLengths may go up to ${fit})`;
    }
    return [...errs, ...table];
  },
  create(config, o, rng) {
    const seed = o.dataSeed ?? config.seed;
    const bs = config.train.batchSize;
    const model = modelFromConfig(config, o.vocab, o.vocab, rng);
    const smoothing = config.train.labelSmoothing;
    const sets = {
      val: evalSets(o, seed, "val", o.valSize),
      test: evalSets(o, seed, "test", o.testSize),
    };
    let last: LengthCurves | undefined;
    const trainLen = (r: Rng) => r.int(o.minTrainLength, o.maxTrainLength + 1);
    const run: TaskRun<Seq2SeqBatch> = {
      model,
      stepsPerEpoch: o.batchesPerEpoch,
      *batches(epoch) {
        const r = new Rng(dataSeed(seed, `lg/epoch/${epoch}`));
        for (let i = 0; i < o.batchesPerEpoch; i++) {
          const seqs = symbolSequences(bs, trainLen, o.vocab, r);
          yield makeSeq2SeqBatch(seqs, seqs);
        }
      },
      loss: (b) => seq2seqLoss(model, b, smoothing),
      batchSize: (b) => targetTokens(b),
      async evaluate(split) {
        const decodes: LengthDecode[] = [];
        for (const { len, batches } of sets[split]) {
          const d = await decodeCopyLike(model, batches, smoothing, START);
          decodes.push({ len, preds: d.preds, golds: d.golds, loss: d.loss });
        }
        const { metrics, curves } = lengthScores(decodes, o.maxTrainLength);
        last = curves;
        return metrics;
      },
      async insights() {
        if (!last) await run.evaluate("val");
        const b = sets.val[0].batches[0];
        const sample = b.src.slice(0, b.srcLen);
        return {
          ...await seq2seqInsights(model, config, sample, String, Math.max(...evalLengths(o)) + 1),
          length_generalization: last,
        };
      },
    };
    return Promise.resolve(run as TaskRun);
  },
};
