/**
 * Checks of a data file before anything trains: it exists, is a readable
 * file, and starts as its format does. Each returns what is wrong in words,
 * or `undefined`.
 *
 * @module
 */

/** The first bytes of each format fuselab reads, by extension. */
const MAGIC: Record<string, Uint8Array> = {
  ".npy": new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]),
  ".h5": new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]),
  ".hdf5": new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]),
};

/**
 * What keeps `path` from being read as a data file: missing, not a file,
 * unreadable, empty, or (for `.npy`, `.h5`, `.hdf5`, `.jsonl`) not starting
 * as that format does. `undefined` when it looks right.
 */
export async function dataFileProblem(path: string): Promise<string | undefined> {
  let file: Deno.FsFile;
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) return "is not a file";
    if (st.size === 0) return "is empty";
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "does not exist";
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      return "cannot be read (permission denied)";
    }
    return `cannot be read (${(e as Error).message.split("\n")[0]})`;
  }
  try {
    const head = new Uint8Array(512);
    const n = (await file.read(head)) ?? 0;
    const ext = path.slice(path.lastIndexOf(".")).toLowerCase();
    const magic = MAGIC[ext];
    if (magic && (n < magic.length || magic.some((b, i) => head[i] !== b))) {
      return `is not a ${ext.slice(1)} file (its first bytes are not the ${ext} signature)`;
    }
    if (ext === ".jsonl") {
      const first = new TextDecoder().decode(head.subarray(0, n)).trimStart();
      if (first && !/^[[{"\d-]|^(true|false|null)/.test(first)) {
        return "is not JSON lines (the first line is not JSON)";
      }
    }
  } catch (e) {
    return `cannot be read (${(e as Error).message.split("\n")[0]})`;
  } finally {
    file.close();
  }
  return undefined;
}
