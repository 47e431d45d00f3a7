/**
 * Users' own features: per-modality files for each split, plus a labels
 * file, declared in the experiment file:
 *
 * ```yaml
 * task:
 *   name: features
 *   modalities: [audio, text]          # order of the fusion inputs
 *   splits:
 *     train: { labels: data/train_labels.txt, audio: data/train_audio.npy, text: data/train_text.jsonl }
 *     val:   { labels: data/val_labels.txt,   audio: data/val_audio.npy,   text: data/val_text.jsonl }
 *     test:  { ... }                       # optional
 * ```
 *
 * Feature files: `.npy` ([N, D] vectors or [N, T, F] frame sequences) or
 * `.jsonl` (see `lib/data/jsonl.ts`). Labels: `.npy` ([N] class ids or
 * [N, C] 0/1), `.txt` (one class id per line, or C space/comma-separated 0/1
 * values per line) or `.jsonl` (a number or an array per line). Class ids
 * run from 0 to `classes` − 1 (by default, the largest training id + 1).
 * Everything is checked before training: missing splits or files, row counts
 * that differ between modalities and labels, widths that differ between
 * splits, non-finite features, labels out of range.
 *
 * @module
 */
import { z } from "zod";
import { DataError } from "../data/errors.ts";
import { dataFileProblem } from "../data/files.ts";
import { readNpy } from "../data/npy.ts";
import { type FeatureColumn, readJsonlFeatures, readLines } from "../data/jsonl.ts";
import type { ModalitySpec } from "../models/multimodal.ts";
import type { Task } from "./task.ts";
import {
  InMemorySplit,
  type ModalityColumn,
  MULTI_LABEL_METRICS,
  multimodalRun,
  SINGLE_LABEL_METRICS,
} from "./multimodal_run.ts";

/** Options of the features task. */
export const FeaturesOptions = z.strictObject({
  /** Modality names, in fusion order; each split names a file for each. */
  modalities: z.array(z.string().min(1)).min(1),
  /** Per split: `labels` and one file per modality. `train` and `val` are required. */
  splits: z.record(z.string(), z.record(z.string(), z.string())),
  /** Multi-label targets (0/1 per class) instead of one class id. */
  multiLabel: z.boolean().default(false),
  /** Number of classes (default: inferred from the training labels). */
  classes: z.int().min(2).optional(),
  /** Key holding the features in JSONL object lines ("features"). */
  field: z.string().default("features"),
  /** Hidden widths of each vector modality's MLP before the fusion ([]: one layer). */
  mlpHidden: z.array(z.int().min(1)).default([]),
});
/** Options of the features task. */
export type FeaturesOptions = z.infer<typeof FeaturesOptions>;

/** Reads one modality file (`.npy` or `.jsonl`). */
export async function readFeatureFile(path: string, field: string): Promise<FeatureColumn> {
  if (path.endsWith(".jsonl")) return await readJsonlFeatures(path, field);
  if (!path.endsWith(".npy")) {
    throw new DataError(
      path,
      "file",
      "has an unknown extension",
      "use .npy or .jsonl feature files",
    );
  }
  const a = await readNpy(path);
  // The parsed array is used as is when it is float32 (no second copy).
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const w = a.shape.slice(1).reduce((x, y) => x * y, 1);
      throw new DataError(
        path,
        "data",
        `value ${data[i]} at row ${Math.floor(i / w)}, column ${i % w} is not finite`,
        "remove or impute NaN/infinite features before training",
      );
    }
  }
  if (a.shape.length === 2) return { kind: "vector", dim: a.shape[1], data, rows: a.shape[0] };
  if (a.shape.length === 3) {
    const [n, t, f] = a.shape;
    const seqs = Array.from({ length: n }, (_, r) => data.subarray(r * t * f, (r + 1) * t * f));
    return { kind: "frames", features: f, seqs, rows: n };
  }
  throw new DataError(
    path,
    "shape",
    `is (${a.shape}); expected [N, D] vectors or [N, T, F] frames`,
  );
}

/** Labels as read: class ids, or rows of 0/1. */
type RawLabels = { ids: number[] } | { rows: number[][] };

/** Reads a labels file (`.npy`, `.txt` or `.jsonl`). */
export async function readLabels(path: string): Promise<RawLabels> {
  if (path.endsWith(".npy")) {
    const a = await readNpy(path);
    if (a.shape.length === 1) return { ids: Array.from(a.data) };
    if (a.shape.length === 2) {
      const [n, c] = a.shape;
      return {
        rows: Array.from({ length: n }, (_, r) => Array.from(a.data.subarray(r * c, (r + 1) * c))),
      };
    }
    throw new DataError(
      path,
      "shape",
      `is (${a.shape}); expected [N] class ids or [N, C] 0/1 labels`,
    );
  }
  const values: (number | number[])[] = [];
  for await (const [n, line] of readLines(path)) {
    let v: unknown;
    if (path.endsWith(".jsonl")) {
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new DataError(path, `line ${n}`, `is not valid JSON (${(e as Error).message})`);
      }
    } else {
      const parts = line.trim().split(/[\s,]+/).map(Number);
      v = parts.length === 1 ? parts[0] : parts;
    }
    const ok = typeof v === "number" || (Array.isArray(v) && v.every((x) => typeof x === "number"));
    if (!ok || (typeof v === "number" ? Number.isNaN(v) : (v as number[]).some(Number.isNaN))) {
      throw new DataError(path, `line ${n}`, `${JSON.stringify(line.slice(0, 40))} is not a label`);
    }
    values.push(v as number | number[]);
  }
  if (!values.length) throw new DataError(path, "file", "has no labels");
  return typeof values[0] === "number"
    ? { ids: values as number[] }
    : { rows: values as number[][] };
}

function labelArray(
  raw: RawLabels,
  path: string,
  multiLabel: boolean,
  classes: number,
): Int32Array | Float32Array {
  if (multiLabel) {
    if (!("rows" in raw)) {
      throw new DataError(
        path,
        "labels",
        "holds one class id per example, but task.multiLabel is true",
        "give C 0/1 values per example, or set task.multiLabel: false",
      );
    }
    const out = new Float32Array(raw.rows.length * classes);
    raw.rows.forEach((row, r) => {
      if (row.length !== classes) {
        throw new DataError(path, `example ${r}`, `has ${row.length} labels, expected ${classes}`);
      }
      row.forEach((v, c) => {
        if (v !== 0 && v !== 1) {
          throw new DataError(path, `example ${r}`, `label ${c} is ${v}, not 0 or 1`);
        }
        out[r * classes + c] = v;
      });
    });
    return out;
  }
  if (!("ids" in raw)) {
    throw new DataError(
      path,
      "labels",
      "holds several values per example, but task.multiLabel is false",
      "give one class id per example, or set task.multiLabel: true",
    );
  }
  return Int32Array.from(raw.ids, (v, r) => {
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new DataError(
        path,
        `example ${r}`,
        `label ${v} is out of range: class ids must be integers in [0, ${classes - 1}]`,
        "fix the label, or raise task.classes",
      );
    }
    return v;
  });
}

/** Problems in the declared splits: missing splits or files, unknown names. */
export function splitProblems(o: FeaturesOptions): [string, string][] {
  const out: [string, string][] = [];
  for (const s of ["train", "val"]) {
    if (!o.splits[s]) {
      out.push([
        `task.splits.${s}`,
        `is missing: declare the ${s} split's labels and modality files`,
      ]);
    }
  }
  for (const [s, files] of Object.entries(o.splits)) {
    if (!["train", "val", "test"].includes(s)) {
      out.push([`task.splits.${s}`, "is not a split: use train, val and test"]);
      continue;
    }
    for (const key of ["labels", ...o.modalities]) {
      if (!files[key]) {
        out.push([`task.splits.${s}.${key}`, `is missing: name the ${key} file of the ${s} split`]);
      }
    }
    for (const key of Object.keys(files)) {
      if (key !== "labels" && !o.modalities.includes(key)) {
        out.push([
          `task.splits.${s}.${key}`,
          `is not one of task.modalities (${o.modalities.join(", ")})`,
        ]);
      }
    }
  }
  return out;
}

/** Reads and checks every split. */
export async function loadFeatureSplits(o: FeaturesOptions): Promise<{
  splits: Record<string, InMemorySplit>;
  modalities: ModalitySpec[];
  classes: number;
}> {
  const problems = splitProblems(o);
  if (problems.length) {
    throw new Error(problems.map(([p, m]) => `${p}: ${m}`).join("\n"));
  }
  const raw: Record<string, { cols: FeatureColumn[]; labels: RawLabels }> = {};
  for (const [s, files] of Object.entries(o.splits)) {
    const cols = [];
    for (const m of o.modalities) cols.push(await readFeatureFile(files[m], o.field));
    raw[s] = { cols, labels: await readLabels(files.labels) };
  }
  const first = raw.train;
  let classes = o.classes ?? 0;
  if (!classes) {
    classes = "ids" in first.labels
      ? Math.max(...first.labels.ids) + 1
      : first.labels.rows[0].length;
  }
  const modalities: ModalitySpec[] = o.modalities.map((name, m) => {
    const c = first.cols[m];
    return c.kind === "vector"
      ? { name, kind: "vector", dim: c.dim }
      : { name, kind: "frames", features: c.features };
  });
  const splits: Record<string, InMemorySplit> = {};
  for (const [s, { cols, labels }] of Object.entries(raw)) {
    const files = o.splits[s];
    const n = cols[0].rows;
    cols.forEach((c, m) => {
      const name = o.modalities[m], file = files[name];
      if (c.rows !== n) {
        throw new DataError(
          file,
          name,
          `has ${c.rows} examples but ${files[o.modalities[0]]} has ${n}`,
          "modality files of a split must be row-aligned",
        );
      }
      const spec = modalities[m];
      const width = c.kind === "vector" ? c.dim : c.features;
      const want = spec.kind === "vector" ? spec.dim : spec.kind === "frames" ? spec.features : 0;
      if (c.kind !== spec.kind || width !== want) {
        throw new DataError(
          file,
          name,
          `has ${c.kind} of width ${width}, but the train split has ${spec.kind} of width ${want}`,
        );
      }
    });
    const nLabels = "ids" in labels ? labels.ids.length : labels.rows.length;
    if (nLabels !== n) {
      throw new DataError(
        files.labels,
        "labels",
        `has ${nLabels} labels for ${n} examples`,
        "one label line per example",
      );
    }
    const columns: ModalityColumn[] = cols.map((c) =>
      c.kind === "vector"
        ? { kind: "vector", dim: c.dim, data: c.data }
        : { kind: "frames", features: c.features, seqs: c.seqs }
    );
    splits[s] = new InMemorySplit(
      columns,
      labelArray(labels, files.labels, o.multiLabel, classes),
      classes,
      n,
    );
  }
  return { splits, modalities, classes };
}

/** The features task. */
export const featuresTask: Task<FeaturesOptions> = {
  name: "features",
  description: "Your own per-modality feature files (.npy or .jsonl) with a labels file",
  options: FeaturesOptions,
  metrics: [...SINGLE_LABEL_METRICS, ...MULTI_LABEL_METRICS.slice(1)],
  primary: "accuracy",
  async checkData(o) {
    const out: [string, string][] = [];
    for (const [split, files] of Object.entries(o.splits)) {
      for (const [key, path] of Object.entries(files)) {
        const why = await dataFileProblem(path);
        if (why) out.push([`task.splits.${split}.${key}`, `the data file ${path} ${why}`]);
      }
    }
    return out;
  },
  check(config, o) {
    const errs = splitProblems(o);
    if (config.model.fusion === "gmu" && o.modalities.length < 2) {
      errs.push([
        "model.fusion",
        `gmu fuses at least 2 modalities, task.modalities has ${o.modalities.length}`,
      ]);
    }
    return errs;
  },
  async create(config, o, rng) {
    const { splits, modalities, classes } = await loadFeatureSplits(o);
    return multimodalRun({
      config,
      modalities,
      classes,
      multiLabel: o.multiLabel,
      train: splits.train,
      val: splits.val,
      test: splits.test,
      seed: config.seed,
      stream: "features",
      rng,
      mlpHidden: o.mlpHidden,
    });
  },
};
