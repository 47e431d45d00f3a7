/**
 * Parallel corpora: a TSV file (`source<TAB>target` per line) or two aligned
 * text files (line i of one translates line i of the other).
 *
 * @module
 */
import { DataError } from "./errors.ts";

/** A sentence pair. */
export interface SentencePair {
  src: string;
  tgt: string;
}

async function readText(path: string, field: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new DataError(path, field, `cannot be read: ${(e as Error).message}`, "check the path");
  }
}

function lines(text: string): string[] {
  const ls = text.split(/\r?\n/);
  if (ls.length && ls[ls.length - 1] === "") ls.pop();
  return ls;
}

/** Reads `source<TAB>target` lines; blank lines are skipped, other malformed lines are errors. */
export async function readTsvPairs(path: string): Promise<SentencePair[]> {
  const out: SentencePair[] = [];
  lines(await readText(path, "file")).forEach((line, i) => {
    if (!line.trim()) return;
    const cols = line.split("\t");
    if (cols.length < 2 || !cols[0].trim() || !cols[1].trim()) {
      throw new DataError(
        path,
        `line ${i + 1}`,
        `expected "source<TAB>target", got ${JSON.stringify(line.slice(0, 60))}`,
        "separate source and target with one tab character; both must be non-empty",
      );
    }
    out.push({ src: cols[0], tgt: cols[1] });
  });
  if (!out.length) throw new DataError(path, "file", "has no sentence pairs");
  return out;
}

/** Reads two aligned text files, one sentence per line. */
export async function readAlignedPairs(srcPath: string, tgtPath: string): Promise<SentencePair[]> {
  const s = lines(await readText(srcPath, "source file"));
  const t = lines(await readText(tgtPath, "target file"));
  if (s.length !== t.length) {
    throw new DataError(
      tgtPath,
      "lines",
      `has ${t.length} lines but the source ${srcPath} has ${s.length}`,
      "the two files must be aligned line by line",
    );
  }
  const out: SentencePair[] = [];
  for (let i = 0; i < s.length; i++) {
    if (!s[i].trim() && !t[i].trim()) continue;
    if (!s[i].trim() || !t[i].trim()) {
      const [file, which] = !s[i].trim() ? [srcPath, "source"] : [tgtPath, "target"];
      throw new DataError(file, `line ${i + 1}`, `the ${which} sentence is empty`);
    }
    out.push({ src: s[i], tgt: t[i] });
  }
  if (!out.length) throw new DataError(srcPath, "file", "has no sentences");
  return out;
}
