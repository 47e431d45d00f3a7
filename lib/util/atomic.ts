/**
 * Crash-safe file writes for the results folder: every whole file is written
 * to a temporary sibling and renamed over the target (a rename is atomic on
 * one file system), and `metrics.jsonl` only ever grows by whole lines.
 *
 * @module
 */

let counter = 0;

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
 * Reads JSON from `path`, or `undefined` when the file does not exist; a
 * damaged file is an error that names it.
 */
export async function readJson<T>(path: string): Promise<T | undefined> {
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
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** True when `path` exists. */
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
