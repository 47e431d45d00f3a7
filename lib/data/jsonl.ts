/**
 * JSON Lines feature files: one example per line, either an array of numbers
 * (a feature vector), an array of arrays (a sequence of frames, any length,
 * equal width), or an object whose `field` holds one of those. Lines are
 * streamed, so a file is never held whole next to its parsed values.
 *
 * @module
 */
import { DataError } from "./errors.ts";

/** Features read from a file: vectors `[rows, dim]`, or frame sequences. */
export type FeatureColumn =
  | { kind: "vector"; dim: number; data: Float32Array; rows: number }
  | { kind: "frames"; features: number; seqs: Float32Array[]; rows: number };

/** Yields the non-blank lines of a text file with their 1-based numbers. */
export async function* readLines(path: string): AsyncGenerator<[number, string]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new DataError(path, "file", `cannot be read: ${(e as Error).message}`, "check the path");
  }
  let rest = "", n = 0;
  const decoder = new TextDecoder();
  for await (const chunk of file.readable) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      n++;
      const line = rest.slice(0, nl).replace(/\r$/, "");
      rest = rest.slice(nl + 1);
      if (line.trim()) yield [n, line];
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield [n + 1, rest.replace(/\r$/, "")];
}

function toNumbers(v: unknown, path: string, where: string): number[] {
  if (!Array.isArray(v)) {
    throw new DataError(path, where, `expected an array of numbers, got ${short(v)}`);
  }
  return v.map((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new DataError(
        path,
        `${where}[${i}]`,
        `${short(x)} is not a finite number`,
        "remove or impute NaN/missing features before training",
      );
    }
    return x;
  });
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 37) + "..." : s;
}

/** Reads a JSONL feature file (see the module doc); `field` picks a key of object lines. */
export async function readJsonlFeatures(path: string, field = "features"): Promise<FeatureColumn> {
  let vectors = new Float32Array(1024), used = 0;
  const seqs: Float32Array[] = [];
  let kind: "vector" | "frames" | undefined, width = -1, rows = 0;
  for await (const [n, line] of readLines(path)) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DataError(path, `line ${n}`, `is not valid JSON (${(e as Error).message})`);
    }
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if (!(field in v)) {
        throw new DataError(
          path,
          `line ${n}`,
          `object has no "${field}" key (keys: ${Object.keys(v).join(", ")})`,
        );
      }
      v = (v as Record<string, unknown>)[field];
    }
    const isFrames = Array.isArray(v) && v.length > 0 && Array.isArray(v[0]);
    const k = isFrames ? "frames" : "vector";
    if (kind && k !== kind) {
      throw new DataError(
        path,
        `line ${n}`,
        `holds ${k === "frames" ? "a sequence of frames" : "a vector"} but earlier lines hold ${
          kind === "frames" ? "frames" : "vectors"
        }`,
      );
    }
    kind = k;
    if (k === "vector") {
      const xs = toNumbers(v, path, `line ${n}`);
      if (width >= 0 && xs.length !== width) {
        throw new DataError(
          path,
          `line ${n}`,
          `has ${xs.length} features, earlier lines have ${width}`,
        );
      }
      width = xs.length;
      if (used + xs.length > vectors.length) {
        const grown = new Float32Array(Math.max(vectors.length * 2, used + xs.length));
        grown.set(vectors.subarray(0, used));
        vectors = grown;
      }
      vectors.set(xs, used);
      used += xs.length;
    } else {
      const frames = v as unknown[];
      const flat: number[] = [];
      frames.forEach((f, t) => {
        const xs = toNumbers(f, path, `line ${n}, frame ${t}`);
        if (width >= 0 && xs.length !== width) {
          throw new DataError(
            path,
            `line ${n}, frame ${t}`,
            `has ${xs.length} features, earlier frames have ${width}`,
          );
        }
        width = xs.length;
        flat.push(...xs);
      });
      seqs.push(Float32Array.from(flat));
    }
    rows++;
  }
  if (!rows) throw new DataError(path, "file", "has no examples");
  return kind === "frames"
    ? { kind: "frames", features: width, seqs, rows }
    : { kind: "vector", dim: width, data: vectors.slice(0, used), rows };
}
