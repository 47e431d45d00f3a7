/**
 * Translation from files: a parallel corpus given as TSV (`source<TAB>target`
 * per line) or as two aligned text files, per split. Tokenization is
 * word-level, or BPE subwords learned on the training side of each language
 * (`tokenizer: bpe`); vocabularies come from the training side with a minimum
 * frequency and the specials `<blank>` = 0 (padding), `<s>`, `</s>`, `<unk>`.
 * Sentences are `<s> … </s>` on both sides, as the Annotated Transformer's
 * Multi30k example; training batches group sentences of similar length.
 * Evaluation decodes greedily until `</s>` and scores corpus BLEU (0–100) on
 * words against the original target sentences.
 *
 * @module
 */
import { z } from "zod";
import { DataError } from "../data/errors.ts";
import { dataFileProblem } from "../data/files.ts";
import { readAlignedPairs, readTsvPairs, type SentencePair } from "../data/text.ts";
import { type Tokenizer, wordTokenize, WordTokenizer } from "../data/tokenizer.ts";
import { BpeTokenizer, learnBpe } from "../data/bpe.ts";
import { BOS, EOS, Vocab } from "../data/vocab.ts";
import { lengthBuckets } from "../data/batching.ts";
import { corpusBleu } from "../metrics/bleu.ts";
import { type Metrics, type Task, type TaskRun, UNIT } from "./task.ts";
import {
  bucketedPairBatches,
  greedyDecodeBatch,
  makeSeq2SeqBatch,
  modelFromConfig,
  type Seq2SeqBatch,
  seq2seqInsights,
  seq2seqLoss,
  seq2seqLossValue,
  targetTokens,
} from "./seq2seq.ts";
import { learnedTableCheck } from "./copy.ts";

/** One split's files: a TSV file, or a source and a target file. */
export const CorpusFiles = z.union([
  z.strictObject({ tsv: z.string().min(1) }),
  z.strictObject({ source: z.string().min(1), target: z.string().min(1) }),
]);
/** One split's files. */
export type CorpusFiles = z.infer<typeof CorpusFiles>;

/** Options of the translation task. */
export const TranslationOptions = z.strictObject({
  train: CorpusFiles,
  val: CorpusFiles,
  test: CorpusFiles.optional(),
  /** "word" or "bpe" subwords (learned on the training side of each language). */
  tokenizer: z.enum(["word", "bpe"]).default("word"),
  /** BPE merges per language (200). */
  bpeMerges: z.int().min(0).default(200),
  lowercase: z.boolean().default(true),
  /** Tokens seen fewer times in training become `<unk>` (1). */
  minFreq: z.int().min(1).default(1),
  /** Training pairs with more tokens than this on either side are skipped (50). */
  maxLength: z.int().min(1).default(50),
});
/** Options of the translation task. */
export type TranslationOptions = z.infer<typeof TranslationOptions>;

async function readSplit(f: CorpusFiles): Promise<SentencePair[]> {
  return "tsv" in f ? await readTsvPairs(f.tsv) : await readAlignedPairs(f.source, f.target);
}

function fileOf(f: CorpusFiles): string {
  return "tsv" in f ? f.tsv : f.source;
}

/** Tokenizers, vocabularies and id sequences of a corpus. */
export interface PreparedCorpus {
  srcTok: Tokenizer;
  tgtTok: Tokenizer;
  srcVocab: Vocab;
  tgtVocab: Vocab;
  /** `<s> … </s>` id sequences per split. */
  encode(pairs: SentencePair[]): { src: number[][]; tgt: number[][] };
}

/** Learns tokenizers and vocabularies from training pairs. */
export function prepareCorpus(train: SentencePair[], o: TranslationOptions): PreparedCorpus {
  const tok = (texts: string[]): Tokenizer =>
    o.tokenizer === "bpe"
      ? new BpeTokenizer(learnBpe(texts, o.bpeMerges, o.lowercase), o.lowercase)
      : new WordTokenizer(o.lowercase);
  const srcTok = tok(train.map((p) => p.src)), tgtTok = tok(train.map((p) => p.tgt));
  const srcVocab = Vocab.build(train.map((p) => srcTok.encode(p.src)), o.minFreq);
  const tgtVocab = Vocab.build(train.map((p) => tgtTok.encode(p.tgt)), o.minFreq);
  return {
    srcTok,
    tgtTok,
    srcVocab,
    tgtVocab,
    encode(pairs) {
      return {
        src: pairs.map((p) => [BOS, ...srcVocab.encode(srcTok.encode(p.src)), EOS]),
        tgt: pairs.map((p) => [BOS, ...tgtVocab.encode(tgtTok.encode(p.tgt)), EOS]),
      };
    },
  };
}

const EVAL_BATCH = 64;

/** The translation task. */
export const translationTask: Task<TranslationOptions> = {
  name: "translation",
  description: "Translate a parallel corpus read from TSV or aligned text files (BLEU)",
  options: TranslationOptions,
  metrics: [
    { name: "loss", higherIsBetter: false, description: "label-smoothed loss per target token" },
    {
      name: "bleu",
      higherIsBetter: true,
      description:
        "corpus BLEU-4 (0–100) of greedy decodes on fuselab word tokens (lowercased unless task.lowercase is false)",
      range: [0, 100],
    },
    {
      name: "exact_match",
      higherIsBetter: true,
      description: "fraction of sentences decoded exactly",
      range: UNIT,
    },
  ],
  primary: "bleu",
  async checkData(o) {
    const out: [string, string][] = [];
    for (const split of ["train", "val", "test"] as const) {
      const files = o[split];
      for (const [key, path] of Object.entries(files ?? {})) {
        const why = await dataFileProblem(path);
        if (why) out.push([`task.${split}.${key}`, `the data file ${path} ${why}`]);
      }
    }
    return out;
  },
  check(config, o) {
    return learnedTableCheck(config, o.maxLength + 2, "the longest sentence task.maxLength + 2");
  },
  async create(config, o, rng) {
    const trainPairs = await readSplit(o.train);
    const valPairs = await readSplit(o.val);
    const testPairs = o.test ? await readSplit(o.test) : undefined;
    const prep = prepareCorpus(trainPairs, o);
    const all = prep.encode(trainPairs);
    const keep = all.src.map((_s, i) => i).filter((i) =>
      all.src[i].length <= o.maxLength + 2 && all.tgt[i].length <= o.maxLength + 2
    );
    if (!keep.length) {
      throw new DataError(
        fileOf(o.train),
        "sentences",
        `every training pair is longer than task.maxLength ${o.maxLength} tokens`,
        "raise task.maxLength",
      );
    }
    const train = { src: keep.map((i) => all.src[i]), tgt: keep.map((i) => all.tgt[i]) };
    const model = modelFromConfig(config, prep.srcVocab.size, prep.tgtVocab.size, rng);
    const smoothing = config.train.labelSmoothing;
    const bs = config.train.batchSize;
    const trainBatches = bucketedPairBatches(train.src, train.tgt, bs, config.seed, "translation");
    const evalSet = (pairs: SentencePair[]) => {
      const enc = prep.encode(pairs);
      // Sources and targets past maxLength are cut (BLEU still scores the whole reference).
      const cut = (s: number[]) =>
        s.length <= o.maxLength + 2 ? s : [...s.slice(0, o.maxLength + 1), EOS];
      enc.src = enc.src.map(cut);
      enc.tgt = enc.tgt.map(cut);
      const order = lengthBuckets(pairs.length, (i) => enc.src[i].length, EVAL_BATCH);
      return {
        batches: order.map((idx) =>
          makeSeq2SeqBatch(idx.map((i) => enc.src[i]), idx.map((i) => enc.tgt[i]))
        ),
        refs: order.map((idx) => idx.map((i) => wordTokenize(pairs[i].tgt, o.lowercase))),
      };
    };
    const sets = { val: evalSet(valPairs), test: testPairs ? evalSet(testPairs) : undefined };
    const run: TaskRun<Seq2SeqBatch> = {
      model,
      stepsPerEpoch: trainBatches.stepsPerEpoch,
      batches: trainBatches.batches,
      loss: (b) => seq2seqLoss(model, b, smoothing),
      batchSize: (b) => targetTokens(b),
      async evaluate(split) {
        const set = sets[split];
        // No test split declared: nothing to report (compare on val/<metric> instead).
        if (!set) return {};
        let lossSum = 0, tokens = 0, exact = 0, n = 0;
        const hyps: string[][] = [], refs: string[][][] = [];
        for (const [k, b] of set.batches.entries()) {
          const t = targetTokens(b);
          lossSum += (await seq2seqLossValue(model, b, smoothing)) * t;
          tokens += t;
          const steps = Math.min(b.srcLen + 10, o.maxLength + 2);
          const out = await greedyDecodeBatch(model, b.src, b.rows, b.srcLen, steps, BOS);
          out.forEach((ids, r) => {
            const words = prep.tgtTok.toWords(prep.tgtVocab.decode(ids));
            const ref = set.refs[k][r];
            hyps.push(words);
            refs.push([ref]);
            if (words.join(" ") === ref.join(" ")) exact++;
            n++;
          });
        }
        const m: Metrics = {
          loss: tokens ? lossSum / tokens : 0,
          bleu: 100 * corpusBleu(hyps, refs).bleu,
          exact_match: n ? exact / n : 0,
        };
        return m;
      },
      insights() {
        const b = sets.val.batches[0];
        const sample = Array.from(b.src.slice(0, b.srcLen)).filter((id) => id !== 0);
        return seq2seqInsights(
          model,
          config,
          sample,
          (id) => prep.srcVocab.itos[id],
          Math.min(o.maxLength + 2, 64),
        );
      },
    };
    return run as TaskRun;
  },
};
