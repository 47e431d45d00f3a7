/**
 * Length generalization of a decoder-only (causal) Transformer: the
 * algorithmic tasks as single sequences, as Kazemnejad et al. (2023, "The
 * Impact of Positional Encoding on Length Generalization in Transformers")
 * pose them. One example of n symbols is
 *
 *   BOS x_1 … x_n SEP y_1 … y_n,   y = x (copy) or y_j = x_{n+1−j} (reverse),
 *
 * read left to right by one causal model. The loss is the next-token NLL on
 * the answer y only (the prompt is given, not predicted):
 *
 *   L = −Σ_j log p(y_j | BOS x SEP y_<j) / n.
 *
 * Training draws n uniformly from [minTrainLength, maxTrainLength];
 * evaluation greedily continues `BOS x SEP` by n tokens at each evaluation
 * length, longer ones included, and scores the answer per token, per output
 * position and as an exact match.
 *
 * Ids: 0 padding, 1 BOS, 2 SEP, symbols uniform in [3, vocab).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";
import { greedyContinue } from "../train/greedy_causal.ts";
import type { MetricInfo, Task, TaskRun } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";
import { learnedTableCheck } from "./copy.ts";
import { lmInsights } from "./language_model.ts";
import { type LengthDecode, lengthScores, trainLengthCheck } from "./length_generalization.ts";
import {
  type CausalBatch,
  causalLoss,
  causalNllSum,
  decoderOnlyFromConfig,
} from "./decoder_only.ts";

/** The special ids of the task: padding, beginning of sequence, separator, and the first symbol. */
export const SEQUENCE_IDS = Object.freeze({ pad: 0, bos: 1, sep: 2, firstSymbol: 3 });
const { bos: BOS, sep: SEP, firstSymbol: FIRST_SYMBOL } = SEQUENCE_IDS;

/** The operations: the answer is the prompt copied or reversed. */
export const OPERATIONS = ["copy", "reverse"] as const;
/** An operation. */
export type Operation = typeof OPERATIONS[number];

/** Options of the decoder-only length-generalization task. */
export const DecoderLengthOptions = z.strictObject({
  /** copy or reverse ("copy"). */
  operation: z.enum(OPERATIONS).default("copy"),
  /** Vocabulary size, padding, BOS and SEP included (13: 10 symbols). */
  vocab: z.int().min(4).default(13),
  /** Shortest training prompt, in symbols (1). */
  minTrainLength: z.int().min(1).default(1),
  /** Longest training prompt L, in symbols (8). */
  maxTrainLength: z.int().min(1).default(8),
  /** Evaluation lengths in symbols (default L, L+2, 3L/2, 2L). */
  evalLengths: z.array(z.int().min(1)).min(1).optional(),
  /** Training batches per epoch (20). */
  batchesPerEpoch: z.int().min(1).default(20),
  /** Validation sequences per evaluation length (64). */
  valSize: z.int().min(1).default(64),
  /** Test sequences per evaluation length (128). */
  testSize: z.int().min(1).default(128),
  /** Seed of the data (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the decoder-only length-generalization task. */
export type DecoderLengthOptions = z.infer<typeof DecoderLengthOptions>;

/** The evaluation lengths of resolved options. */
export function decoderEvalLengths(o: DecoderLengthOptions): number[] {
  const L = o.maxTrainLength;
  return o.evalLengths ?? [L, L + 2, Math.round(1.5 * L), 2 * L];
}

/** The answer to a prompt of symbols under an operation. */
export function answerOf(x: ArrayLike<number>, op: Operation): Int32Array {
  const y = Int32Array.from(x);
  return op === "reverse" ? y.reverse() : y;
}

/** One example as a single sequence: `BOS x_1 … x_n SEP y_1 … y_n`. */
export function exampleSequence(x: ArrayLike<number>, op: Operation): Int32Array {
  const n = x.length;
  const s = new Int32Array(2 * n + 2);
  s[0] = BOS;
  s.set(Array.from(x), 1);
  s[n + 1] = SEP;
  s.set(answerOf(x, op), n + 2);
  return s;
}

/** `count` prompts of symbols uniform in [FIRST_SYMBOL, vocab), lengths drawn by `lengthOf`. */
export function promptSymbols(
  count: number,
  lengthOf: (rng: Rng) => number,
  vocab: number,
  rng: Rng,
): Int32Array[] {
  return Array.from({ length: count }, () => {
    const n = lengthOf(rng);
    return Int32Array.from({ length: n }, () => rng.int(FIRST_SYMBOL, vocab));
  });
}

/**
 * The training batch of prompts: row r reads `s[0 … 2n]` and predicts
 * `s[1 … 2n+1]` of its {@link exampleSequence} s, padded on the right with 0
 * to the longest row; the weight is 1 exactly where the target is an answer
 * token (input positions n+1 … 2n), 0 on the prompt and on padding.
 */
export function answerBatch(prompts: readonly ArrayLike<number>[], op: Operation): CausalBatch {
  const rows = prompts.length;
  const len = prompts.reduce((m, x) => Math.max(m, 2 * x.length + 1), 0);
  const ids = new Int32Array(rows * len), targets = new Int32Array(rows * len);
  const weights = new Float32Array(rows * len);
  prompts.forEach((x, r) => {
    const s = exampleSequence(x, op), n = x.length;
    ids.set(s.subarray(0, 2 * n + 1), r * len);
    targets.set(s.subarray(1), r * len);
    for (let t = n + 1; t <= 2 * n; t++) weights[r * len + t] = 1;
  });
  return { ids, targets, weights, rows, len };
}

/** The prompts `BOS x SEP` of equal-length rows, row-major [rows, n + 2]. */
export function promptIds(prompts: readonly ArrayLike<number>[]): Int32Array {
  const n = prompts[0]?.length ?? 0;
  const out = new Int32Array(prompts.length * (n + 2));
  prompts.forEach((x, r) => {
    if (x.length !== n) throw new Error(`promptIds: row ${r} has ${x.length} symbols, not ${n}`);
    out[r * (n + 2)] = BOS;
    out.set(Array.from(x), r * (n + 2) + 1);
    out[r * (n + 2) + n + 1] = SEP;
  });
  return out;
}

/**
 * Greedy answers to equal-length prompts (n symbols each): `BOS x SEP`
 * continued by n tokens, read asynchronously (any backend).
 */
export async function greedyAnswers(
  model: DecoderOnlyTransformer,
  prompts: readonly ArrayLike<number>[],
): Promise<Int32Array[]> {
  const rows = prompts.length, n = prompts[0]?.length ?? 0;
  if (!rows || !n) return prompts.map(() => new Int32Array(0));
  const out = tf.tidy(() =>
    greedyContinue(model, tf.tensor2d(promptIds(prompts), [rows, n + 2], "int32"), n)
  );
  let flat: Int32Array;
  try {
    flat = (await out.data()) as Int32Array;
  } finally {
    out.dispose();
  }
  return Array.from({ length: rows }, (_, r) => flat.slice(r * n, (r + 1) * n));
}

const EVAL_BATCH = 64;

const METRICS: MetricInfo[] = [
  {
    name: "loss",
    higherIsBetter: false,
    description: "answer NLL per token (nats), mean over the evaluation lengths",
  },
  {
    name: "token_accuracy",
    higherIsBetter: true,
    description: "fraction of answer tokens the greedy decode gets right, mean over the lengths",
  },
  {
    name: "exact_match",
    higherIsBetter: true,
    description: "fraction of answers entirely right, mean over the evaluation lengths",
  },
  {
    name: "exact_match_ood",
    higherIsBetter: true,
    description: "exact match, mean over evaluation lengths longer than the training lengths",
  },
  {
    name: "token_accuracy_ood",
    higherIsBetter: true,
    description: "token accuracy, mean over evaluation lengths longer than the training lengths",
  },
  {
    name: "token_accuracy_beyond",
    higherIsBetter: true,
    description: "token accuracy at answer positions beyond the longest training answer " +
      "(positions never produced in training), pooled over the longer evaluation lengths",
  },
  { name: "exact_match@<length>", higherIsBetter: true, description: "exact match at a length" },
  {
    name: "token_accuracy@<length>",
    higherIsBetter: true,
    description: "token accuracy at an evaluation length",
  },
  { name: "loss@<length>", higherIsBetter: false, description: "answer NLL at a length" },
];

/** The decoder-only length-generalization task. */
export const decoderLengthTask: Task<DecoderLengthOptions> = {
  name: "decoder_length_generalization",
  description: "Copy or reverse as one causal sequence (prompt, separator, answer); " +
    "answers longer than any seen in training (decoder-only positional-encoding ablations)",
  options: DecoderLengthOptions,
  metrics: METRICS,
  primary: "token_accuracy_ood",
  check(config, o) {
    const errs = trainLengthCheck(o);
    const longest = 2 * Math.max(o.maxTrainLength, ...decoderEvalLengths(o)) + 1;
    const table = learnedTableCheck(config, longest, "the longest evaluation sequence");
    if (table.length) {
      const fit = Math.floor((config.model.maxLen - 1) / 2);
      table[0][1] += ` (a prompt of n symbols reads 2n + 1 positions; with model.maxLen ` +
        `${config.model.maxLen}, task.evalLengths may go up to ${fit})`;
    }
    return [...errs, ...table];
  },
  create(config, o, rng) {
    const seed = o.dataSeed ?? config.seed;
    const bs = config.train.batchSize;
    const model = decoderOnlyFromConfig(config, o.vocab, rng);
    const lengths = decoderEvalLengths(o);
    const evalSet = (split: string, size: number) =>
      lengths.map((len) => ({
        len,
        prompts: promptSymbols(
          size,
          () => len,
          o.vocab,
          new Rng(dataSeed(seed, `dlg/${split}/${len}`)),
        ),
      }));
    const sets = { val: evalSet("val", o.valSize), test: evalSet("test", o.testSize) };
    const trainLen = (r: Rng) => r.int(o.minTrainLength, o.maxTrainLength + 1);
    // the curves of the latest evaluation of each split (the artifact prefers test)
    const last: Partial<Record<"val" | "test", Record<string, unknown>>> = {};
    const run: TaskRun<CausalBatch> = {
      model,
      stepsPerEpoch: o.batchesPerEpoch,
      *batches(epoch) {
        const r = new Rng(dataSeed(seed, `dlg/epoch/${epoch}`));
        for (let i = 0; i < o.batchesPerEpoch; i++) {
          yield answerBatch(promptSymbols(bs, trainLen, o.vocab, r), o.operation);
        }
      },
      loss: (b) => causalLoss(model, b),
      batchSize: (b) => b.rows * b.len,
      async evaluate(split) {
        const decodes: LengthDecode[] = [];
        for (const { len, prompts } of sets[split]) {
          let nll = 0;
          const preds: Int32Array[] = [];
          for (let i = 0; i < prompts.length; i += EVAL_BATCH) {
            const part = prompts.slice(i, i + EVAL_BATCH);
            const l = causalNllSum(model, answerBatch(part, o.operation));
            try {
              nll += (await l.data())[0];
            } finally {
              l.dispose();
            }
            preds.push(...await greedyAnswers(model, part));
          }
          const golds = prompts.map((x) => answerOf(x, o.operation));
          decodes.push({ len, preds, golds, loss: nll / Math.max(1, prompts.length * len) });
        }
        const { metrics, curves } = lengthScores(decodes, o.maxTrainLength);
        last[split] = { split, ...curves };
        return metrics;
      },
      async insights() {
        if (!last.test && !last.val) await run.evaluate("val");
        // attention of every layer on one training-length example, answer included
        const x = sets.val[0].prompts[0];
        const s = exampleSequence(x, o.operation).subarray(0, 2 * x.length + 1);
        const name = (id: number) => id === BOS ? "BOS" : id === SEP ? "SEP" : String(id);
        return {
          length_generalization: last.test ?? last.val,
          ...await lmInsights(model, config, s, name, 2 * Math.max(...lengths) + 1),
        };
      },
    };
    return Promise.resolve(run as TaskRun);
  },
};
