/**
 * fuselab's one set of file utilities: crash-safe writes for the results
 * folder (every whole file is written to a temporary sibling and renamed
 * over the target, a rename being atomic on one file system; the temporary
 * file is removed when the write fails, and {@link sweepTempFiles} removes
 * those a killed process left), `metrics.jsonl` growing by whole lines only,
 * reading JSON with a damaged file named, and {@link exists}.
 *
 * @module
 */
import { join } from "node:path";

let counter = 0;

/** Names of the temporary files {@link writeFileAtomic} writes: `<name>.<pid>.<n>.tmp`. */
export const TEMP_FILE = /\.\d+\.\d+\.tmp$/;

/** Writes `data` to `path` atomically (temporary file in the same folder, then rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.${counter++}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes `value` as pretty JSON (with a final newline) to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Removes the temporary files of interrupted atomic writes in `dir` and its
 * subfolders (never this process's own). Call it where no other process is
 * writing (e.g. holding a run's lock), or give `minAgeMs`: then only files
 * older than that go (a write takes milliseconds). Returns how many were removed.
 */
export async function sweepTempFiles(
  dir: string,
  pattern: RegExp = TEMP_FILE,
  minAgeMs = 0,
): Promise<number> {
  let removed = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory) removed += await sweepTempFiles(path, pattern, minAgeMs);
    else if (pattern.test(e.name) && !e.name.includes(`.${Deno.pid}.`)) {
      if (minAgeMs > 0) {
        const st = await Deno.stat(path).catch(() => undefined);
        if (!st?.mtime || Date.now() - st.mtime.getTime() < minAgeMs) continue;
      }
      await Deno.remove(path).catch(() => {});
      removed++;
    }
  }
  return removed;
}

/**
 * A results file that cannot be read as fuselab wrote it (a truncated or
 * edited JSON file). The message names the file, what is wrong, and the fix.
 */
export class DamagedFileError extends Error {
  /** @param path the file; @param problem what is wrong; @param fix what to do */
  constructor(readonly path: string, readonly problem: string, readonly fix?: string) {
    super(`${path}: ${problem}${fix ? `; ${fix}` : ""}`);
    this.name = "DamagedFileError";
  }
}

/**
 * Reads JSON from `path`, or `undefined` when the file does not exist; a
 * damaged file is a {@link DamagedFileError} that names it (with `fix` as
 * the advice).
 */
export async function readJson<T>(path: string, fix?: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const why = text.trim() ? (e as Error).message : "the file is empty";
    throw new DamagedFileError(path, `invalid JSON, the file is damaged (${why})`, fix);
  }
}

/** True when `path` exists (any kind of file); other errors than NotFound are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Appends whole lines (each given without its newline) to `path` in one write,
 * so that a crash leaves at worst one partial last line, which
 * {@link truncateLines} removes on resume.
 */
export async function appendLines(path: string, lines: string[]): Promise<void> {
  if (!lines.length) return;
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""), { append: true });
}

/** Number of complete (newline-terminated) lines in `path`; 0 when missing. */
export async function countLines(path: string): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  let n = 0;
  for (const b of bytes) if (b === 10) n++;
  return n;
}

/**
 * Keeps only the first `n` complete lines of `path` (dropping later lines and
 * any partial last line), atomically. A missing file becomes an empty one.
 */
export async function truncateLines(path: string, n: number): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    bytes = new Uint8Array();
  }
  let end = 0, seen = 0;
  while (seen < n && end < bytes.length) {
    if (bytes[end] === 10) seen++;
    end++;
  }
  if (seen < n) {
    throw new Error(`${path}: has ${seen} complete lines, the checkpoint expects ${n}`);
  }
  if (end === bytes.length) return;
  await writeFileAtomic(path, bytes.subarray(0, end));
}
