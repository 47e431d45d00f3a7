/**
 * HDF5 files through h5wasm (the HDF5 C library compiled to wasm). The node
 * build reads from the real file system on demand, so a dataset's rows are
 * read slice by slice and a large file is never held in memory.
 *
 * @module
 */
import h5wasm from "h5wasm/node";
import { DataError } from "./errors.ts";

let quiet: Promise<void> | undefined;

/**
 * Loads h5wasm with HDF5's errors thrown rather than printed: a damaged file
 * is then one error, not dozens of `HDF5-DIAG` lines on stderr.
 */
function ready(): Promise<void> {
  quiet ??= (async () => {
    const mod = await h5wasm.ready as unknown as { activate_throwing_error_handler?(): void };
    mod.activate_throwing_error_handler?.();
  })();
  return quiet;
}

/**
 * The innermost cause of an HDF5 error stack (`file signature not found (Not
 * an HDF5 file)`), or the message's first line.
 */
export function hdf5Reason(message: string): string {
  const frames = [
    ...message.matchAll(
      /#\d+: [^\n]*?\(\): ([^\n]*)(?:\n\s*major: [^\n]*)?(?:\n\s*minor: ([^\n]*))?/g,
    ),
  ];
  const last = frames.at(-1);
  if (!last) return message.split("\n")[0];
  return last[2] ? `${last[1].trim()} (${last[2].trim()})` : last[1].trim();
}

/** A numeric dataset's rows `[start, end)`, flattened row-major. */
export interface Rows {
  data: Float32Array;
  rows: number;
  /** Values per row (product of the trailing dimensions). */
  width: number;
}

/** An open HDF5 file, read by dataset name and row range. */
export class H5Reader {
  // deno-lint-ignore no-explicit-any
  #file: any;

  private constructor(readonly path: string, file: unknown) {
    this.#file = file;
  }

  /** Opens `path` read-only; a missing or non-HDF5 file is a {@link DataError}. */
  static async open(path: string): Promise<H5Reader> {
    try {
      const st = await Deno.stat(path);
      if (!st.isFile) throw new Error("not a file");
    } catch (e) {
      throw new DataError(
        path,
        "file",
        e instanceof Deno.errors.NotFound
          ? "does not exist"
          : `cannot be opened: ${(e as Error).message.split("\n")[0]}`,
        "check the path (a relative path is read from the working directory)",
      );
    }
    await ready();
    let f: unknown;
    try {
      f = new h5wasm.File(path, "r");
    } catch (e) {
      throw new DataError(
        path,
        "file",
        `is not a readable HDF5 file: ${hdf5Reason((e as Error).message)}`,
        "check that the file was copied whole (a truncated or damaged file cannot be read)",
      );
    }
    return new H5Reader(path, f);
  }

  /** Names at the root. */
  keys(): string[] {
    return this.#guard("file", () => this.#file.keys());
  }

  /** Runs `read`, turning HDF5's errors into a {@link DataError} naming the file and `field`. */
  #guard<T>(field: string, read: () => T): T {
    try {
      return read();
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(
        this.path,
        field,
        `cannot be read: ${hdf5Reason((e as Error).message)}`,
        "check that the file was copied whole (a truncated or damaged file cannot be read)",
      );
    }
  }

  /** Shape of dataset `name`, or a {@link DataError} naming the datasets there are. */
  shape(name: string): number[] {
    return [...this.#dataset(name).shape];
  }

  // deno-lint-ignore no-explicit-any
  #dataset(name: string): any {
    const d = this.#guard(name, () => this.#file.get(name));
    if (!d || d.shape === undefined) {
      throw new DataError(
        this.path,
        name,
        `no such dataset (the file has: ${this.keys().join(", ") || "nothing"})`,
        "point the task option at the right dataset name",
      );
    }
    return d;
  }

  /** Rows `[start, end)` of dataset `name` as float32. */
  rows(name: string, start: number, end: number): Rows {
    const d = this.#dataset(name);
    const shape: number[] = d.shape;
    if (start < 0 || end > shape[0] || start > end) {
      throw new DataError(
        this.path,
        name,
        `rows [${start}, ${end}) are outside its ${shape[0]} rows`,
      );
    }
    const width = shape.slice(1).reduce((a, b) => a * b, 1);
    const raw = this.#guard(name, () => d.slice([[start, end]])) as ArrayLike<number | bigint>;
    const data = raw instanceof Float32Array
      ? raw
      : Float32Array.from(raw as ArrayLike<number>, Number);
    return { data, rows: end - start, width };
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
