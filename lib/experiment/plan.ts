/**
 * Planning: an experiment's axes expand into variants (grid product, zipped
 * or paired axes, exclusions), each variant × seed resolves to one
 * `RunConfig`, and a run's id is a stable hash of that config.
 *
 * @module
 */
import { type RunConfig } from "../contract/config.ts";
import type { Manifest, ManifestRun } from "../contract/results.ts";
import type { Experiment } from "./schema.ts";

/** Axes that vary together: one or more config paths and their rows of values. */
export interface AxisGroup {
  /** Config paths of the group. */
  paths: string[];
  /** One tuple of values (one per path) for each position of the group. */
  rows: unknown[][];
  /** Where each row's value for a path is written: axis key in the file and index. */
  sources: { axisKey: string; index: number }[][];
}

/** One variant: a value for each axis path. */
export interface Variant {
  /** Axis path → value. */
  values: Record<string, unknown>;
  /** Readable stable key, `model.positional=learned,model.heads=4` (or `base`). */
  key: string;
  /** Axis path → where its value is written in the file. */
  sources: Record<string, { axisKey: string; index: number }>;
}

/** Splits an axis key (`"model.dModel,model.heads"`) into its config paths. */
export function axisPaths(axisKey: string): string[] {
  return axisKey.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The experiment's axes as groups, in declaration order (assumes a validated experiment). */
export function axisGroups(exp: Experiment): AxisGroup[] {
  const axes = exp.axes ?? {};
  const zipOf = new Map<string, number>();
  (exp.zip ?? []).forEach((group, gi) => group.forEach((p) => zipOf.set(p, gi)));
  const groups: AxisGroup[] = [];
  const zipped = new Map<number, AxisGroup>();
  for (const [axisKey, values] of Object.entries(axes)) {
    const paths = axisPaths(axisKey);
    const gi = paths.length === 1 ? zipOf.get(paths[0]) : undefined;
    if (gi !== undefined) {
      let g = zipped.get(gi);
      if (!g) {
        g = { paths: [], rows: values.map(() => []), sources: values.map(() => []) };
        zipped.set(gi, g);
        groups.push(g);
      }
      g.paths.push(paths[0]);
      values.forEach((v, i) => {
        g.rows[i]?.push(v);
        g.sources[i]?.push({ axisKey, index: i });
      });
      continue;
    }
    groups.push({
      paths,
      rows: values.map((v) => paths.length === 1 ? [v] : (v as unknown[])),
      sources: values.map((_, i) => paths.map(() => ({ axisKey, index: i }))),
    });
  }
  return groups;
}

/** Formats an axis value for a variant key. */
export function formatValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The variant key of axis values (in axis order). */
export function variantKey(values: Record<string, unknown>): string {
  const parts = Object.entries(values).map(([p, v]) => `${p}=${formatValue(v)}`);
  return parts.length ? parts.join(",") : "base";
}

/** Every variant of the grid, before exclusions, in plan order (first axis slowest). */
export function expandVariants(exp: Experiment): Variant[] {
  let partial: { values: Record<string, unknown>; sources: Variant["sources"] }[] = [
    { values: {}, sources: {} },
  ];
  for (const g of axisGroups(exp)) {
    const next: typeof partial = [];
    for (const p of partial) {
      g.rows.forEach((row, r) => {
        const values = { ...p.values }, sources = { ...p.sources };
        g.paths.forEach((path, k) => {
          values[path] = row[k];
          sources[path] = g.sources[r][k];
        });
        next.push({ values, sources });
      });
    }
    partial = next;
  }
  // Keep the file's axis order in each variant's values.
  const order = Object.keys(exp.axes ?? {}).flatMap(axisPaths);
  return partial.map(({ values, sources }) => {
    const ordered = Object.fromEntries(order.filter((p) => p in values).map((p) => [p, values[p]]));
    return { values: ordered, key: variantKey(ordered), sources };
  });
}

/** Structural equality of plain JSON-like values. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Whether `variant` matches every `path: value` of an exclusion. */
export function matchesExclusion(variant: Variant, rule: Record<string, unknown>): boolean {
  return Object.entries(rule).every(([p, v]) =>
    p in variant.values && sameValue(variant.values[p], v)
  );
}

/** The experiment's seeds (`seeds: n` means 0 … n−1; default `[0]`). */
export function seedsOf(exp: Experiment): number[] {
  const s = exp.seeds ?? [0];
  return typeof s === "number" ? Array.from({ length: s }, (_, i) => i) : s;
}

/** Deep copy of plain data (NaN and Infinity kept, for validation to name them). */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  }
  return v;
}

/** Sets `path` (`a.b.c`) in `obj`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (o[p] === null || typeof o[p] !== "object" || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = clone(value);
}

/** Reads `path` (`a.b.c`) from `obj`. */
export function getPath(obj: unknown, path: string): unknown {
  let o = obj;
  for (const p of path.split(".")) {
    if (o === null || typeof o !== "object") return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  return o;
}

/**
 * The unvalidated config of one run: the experiment's base (`task`, `model`,
 * `train`, `backend`, with defaults already filled in by the schema), the
 * variant's axis values, and the seed.
 */
export function rawRunConfig(
  exp: Experiment,
  variant: Variant,
  seed: number,
  backend?: string,
): Record<string, unknown> {
  const raw: Record<string, unknown> = clone({
    task: exp.task,
    ...(exp.model ? { model: exp.model } : {}),
    ...(exp.train ? { train: exp.train } : {}),
    ...(exp.backend ? { backend: exp.backend } : {}),
  });
  for (const [path, value] of Object.entries(variant.values)) setPath(raw, path, value);
  if (backend) raw.backend = backend;
  raw.seed = seed;
  return raw;
}

/** JSON with object keys sorted at every level: the canonical form that run ids hash. */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return "null";
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
}

/** A run's id: the first 12 hex digits of SHA-256 of the canonical JSON of its resolved config. */
export async function runIdOf(config: RunConfig): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(config));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One planned run with its resolved config. */
export interface PlannedRun extends ManifestRun {
  config: RunConfig;
}

/** The plan of an experiment: its manifest plus each run's resolved config. */
export interface Plan {
  manifest: Manifest;
  runs: PlannedRun[];
}

/** Axis path → its distinct values in declaration order (paired axes split per path). */
export function manifestAxes(exp: Experiment): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const g of axisGroups(exp)) {
    g.paths.forEach((p, k) => {
      const vals: unknown[] = (out[p] ??= []);
      for (const row of g.rows) if (!vals.some((v) => sameValue(v, row[k]))) vals.push(row[k]);
    });
  }
  return out;
}
