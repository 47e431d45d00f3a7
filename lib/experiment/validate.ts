/**
 * Validation of an experiment file: the schema, then what the schema cannot
 * see (unknown task, axis paths, duplicate axis values, zipped lengths,
 * exclusions, metrics), then every resolved variant (the task's options,
 * heads dividing d_model, sizes that cannot be allocated, the task's own
 * `check()`), then the data files the task reads, all before anything trains.
 * Reading the file and building the plan's manifest is loader.ts's.
 *
 * Every mistake becomes one line `<file>:<line>:<col> <path>: <what was
 * expected> (got <value>)`, and all are reported at once: a mistake in one
 * stage does not hide those of the next.
 *
 * @module
 */
import type { z } from "zod";
import type { BackendName } from "../engine/backend.ts";
import type { MetricInfo, Task } from "../tasks/task.ts";
import { didYouMean } from "../tasks/registry.ts";
import { ModelConfig, RunConfig, TrainConfig } from "../contract/config.ts";
import { headSplitProblem } from "../nn/attention.ts";
import {
  axisPaths,
  canonicalJson,
  expandVariants,
  getPath,
  matchesExclusion,
  type PlannedRun,
  rawRunConfig,
  runIdOf,
  sameValue,
  seedsOf,
  type Variant,
} from "./plan.ts";
import { Experiment } from "./schema.ts";
import type { ExperimentSource, Segment } from "./source.ts";
import type { TaskCatalog } from "./tasks.ts";

/** A bad experiment file: `lines` are the formatted mistakes, one per line. */
export class ExperimentError extends Error {
  /** @param file the experiment file; @param lines one formatted message per mistake */
  constructor(readonly file: string, readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ExperimentError";
  }
}

/** One mistake, before it is located and formatted. */
interface Problem {
  /** Where it is written in the file. */
  at: Segment[];
  /** Point at the key rather than the value. */
  key?: boolean;
  /** The config path the message is about. */
  subject: string;
  /** What was expected. */
  expected: string;
  /** The offending value (`undefined` prints as "nothing"). */
  got: unknown;
  /** Variant key, for problems of some variants only. */
  variant?: string;
  /** True when `at` is an axis value (then the variant is evident). */
  atAxis?: boolean;
}

/** Options of {@link validateExperiment}. */
export interface ValidateOptions {
  /** Overrides the file's backend (`--backend`); part of each run's config. */
  backend?: BackendName;
  /**
   * `false` skips the checks of the data files the task reads (planning
   * only: run ids do not depend on data). Default `true`.
   */
  checkData?: boolean;
}

/** A valid experiment: its task, variants, their resolved configs, the baseline, the runs. */
export interface ValidExperiment {
  experiment: Experiment;
  task: Task;
  /** Variant key of the baseline. */
  baseline: string;
  seeds: number[];
  /** Every run, variant × seed in plan order, with its id. */
  runs: PlannedRun[];
}

// ---------------------------------------------------------------- formatting

/** Formats a value for a message. */
export function showValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 70 ? s.slice(0, 67) + "..." : s;
}

/** Formats a path inside a file: `axes["model.heads"][2]`, `model.dModel`. */
export function showPath(path: Segment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || "(top level)";
}

function suggestion(word: string, candidates: string[], list = true): string {
  const guess = didYouMean(word, candidates, 1);
  if (guess) return `; did you mean "${guess}"?`;
  if (!list || !candidates.length) return "";
  const shown = candidates.slice(0, 12).join(", ");
  return `; expected one of ${shown}${candidates.length > 12 ? ", ..." : ""}`;
}

// ------------------------------------------------------ zod schema traversal

interface ZodLike {
  _zod: {
    def: {
      type: string;
      innerType?: ZodLike;
      in?: ZodLike;
      shape?: Record<string, ZodLike>;
      options?: ZodLike[];
      valueType?: ZodLike;
      element?: ZodLike;
      getter?: () => ZodLike;
    };
  };
}

const WRAPPERS = new Set([
  "optional",
  "default",
  "nullable",
  "readonly",
  "prefault",
  "catch",
  "nonoptional",
]);

function unwrap(s: ZodLike): ZodLike {
  for (let i = 0; i < 20; i++) {
    const d = s._zod.def;
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else if (d.type === "lazy" && d.getter) s = d.getter();
    else break;
  }
  return s;
}

function childSchema(s: ZodLike, seg: Segment): ZodLike | undefined {
  const d = unwrap(s)._zod.def;
  if (d.type === "object") return d.shape?.[String(seg)];
  if (d.type === "record") return d.valueType;
  if (d.type === "array") return d.element;
  if (d.type === "union") {
    for (const o of d.options ?? []) {
      const c = childSchema(o, seg);
      if (c) return c;
    }
  }
  return undefined;
}

/** The schema of the value at `path`, if it can be found. */
function schemaAt(schema: z.ZodType, path: Segment[]): ZodLike | undefined {
  let s: ZodLike | undefined = schema as unknown as ZodLike;
  for (const seg of path) {
    s = s && childSchema(s, seg);
    if (!s) return undefined;
  }
  return s;
}

/** Whether the schema at `path` is an integer (`z.int()`). */
function isIntegerAt(schema: z.ZodType, path: Segment[]): boolean {
  const s = schemaAt(schema, path);
  const def = s && (unwrap(s)._zod.def as { format?: string });
  return !!def?.format && /int/.test(def.format);
}

/** Keys an object schema (or a union of them) accepts at `path`. */
function keysAt(schema: z.ZodType, path: Segment[]): string[] {
  const s = schemaAt(schema, path);
  const keysOf = (x: ZodLike): string[] => {
    const d = unwrap(x)._zod.def;
    if (d.type === "object") return Object.keys(d.shape ?? {});
    if (d.type === "union") return [...new Set((d.options ?? []).flatMap(keysOf))];
    return [];
  };
  return s ? keysOf(s) : [];
}

/** Whether a schema is an object schema that lists its keys. */
function isObjectSchema(schema: z.ZodType): boolean {
  return unwrap(schema as unknown as ZodLike)._zod.def.type === "object";
}

// ------------------------------------------------------- zod issues → text

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  keys?: string[];
  values?: unknown[];
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  origin?: string;
  options?: unknown[];
  discriminator?: string;
  errors?: Issue[][];
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping of keys to values",
  record: "a mapping of keys to values",
  tuple: "a list",
};

function expectedOf(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (typeof issue.input === "number" && !Number.isFinite(issue.input)) {
        return `expected a finite ${issue.expected === "int" ? "integer" : "number"}`;
      }
      const t = TYPE_NAMES[issue.expected ?? ""] ?? issue.expected ?? "another type";
      return issue.input === undefined ? `required: expected ${t}` : `expected ${t}`;
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = String(small ? issue.minimum : issue.maximum);
      if (issue.origin === "array") {
        return `expected ${small ? "at least" : "at most"} ${bound} item${
          bound === "1" ? "" : "s"
        }`;
      }
      if (issue.origin === "string") {
        return `expected ${small ? "at least" : "at most"} ${bound} characters`;
      }
      const op = small ? (issue.inclusive ? ">=" : ">") : (issue.inclusive ? "<=" : "<");
      return `expected a number ${op} ${bound}`;
    }
    case "invalid_value": {
      const values = (issue.values ?? []).map((v) => JSON.stringify(v));
      const s = typeof issue.input === "string"
        ? suggestion(issue.input, (issue.values ?? []).map(String), false)
        : "";
      return `expected ${values.length === 1 ? values[0] : "one of " + values.join(", ")}${s}`;
    }
    case "invalid_union": {
      if (issue.discriminator) {
        const opts = (issue.options ?? []).map((v) => JSON.stringify(v));
        return `expected one of ${opts.join(", ")}`;
      }
      const alts = (issue.errors ?? []).map((errs) => errs[0] ? expectedOf(errs[0]) : "")
        .filter((s) => s).map((s) => s.replace(/^(required: )?expected /, ""));
      return alts.length ? `expected ${[...new Set(alts)].join(" or ")}` : issue.message;
    }
    default:
      return issue.message.replace(/^Invalid input: /, "");
  }
}

/**
 * Problems from zod issues. `toFile` maps a path in the validated value to
 * where it is written; `subjectPrefix` prefixes the printed path.
 */
function issueProblems(
  issues: Issue[],
  schema: z.ZodType,
  toFile: (path: Segment[]) => { at: Segment[]; atAxis?: boolean },
  subjectPrefix: Segment[] = [],
): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => typeof p === "number" ? p : String(p)) as Segment[];
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, path);
      for (const k of issue.keys ?? []) {
        const full = [...path, k];
        const loc = toFile(full);
        out.push({
          at: loc.at,
          atAxis: loc.atAxis,
          key: !loc.atAxis,
          subject: showPath([...subjectPrefix, ...full]),
          expected: `unknown key${suggestion(k, known)}`,
          got: (issue.input as Record<string, unknown> | undefined)?.[k],
        });
      }
      continue;
    }
    if (issue.code === "invalid_union" && issue.discriminator) {
      // zod points at the union; the mistake is the discriminator's value.
      const full = path[path.length - 1] === issue.discriminator
        ? path
        : [...path, issue.discriminator];
      const loc = toFile(full);
      out.push({
        at: loc.at,
        atAxis: loc.atAxis,
        subject: showPath([...subjectPrefix, ...full]),
        expected: expectedOf(issue),
        got: (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator],
      });
      continue;
    }
    const loc = toFile(path);
    const integer = issue.code === "invalid_type" && issue.expected === "number" &&
      isIntegerAt(schema, path);
    out.push({
      at: loc.at,
      atAxis: loc.atAxis,
      subject: showPath([...subjectPrefix, ...path]),
      expected: expectedOf(integer ? { ...issue, expected: "int" } : issue),
      got: issue.input,
    });
  }
  return out;
}

// ------------------------------------------------------------ config paths

const LR_KEYS = ["schedule", "factor", "warmup", "value"];

/** Every config path an axis may name (task options only when the task's schema lists them). */
function configPaths(task: Task | undefined): string[] {
  const paths = ["backend", "task.name"];
  for (const k of Object.keys(ModelConfig.shape)) paths.push(`model.${k}`);
  for (const k of Object.keys(TrainConfig.shape)) paths.push(`train.${k}`);
  for (const k of LR_KEYS) paths.push(`train.lr.${k}`);
  if (task) { for (const k of keysAt(task.options as z.ZodType, [])) paths.push(`task.${k}`); }
  return paths;
}

/** Why `path` cannot be an axis, or `undefined` when it can. */
function badConfigPath(path: string, task: Task | undefined): string | undefined {
  if (path === "seed") return "the seed is not an axis: list seeds in `seeds`";
  const valid = configPaths(task);
  if (valid.includes(path) || path === "model" || path === "train") return undefined;
  const parts = path.split(".");
  if (parts[0] === "task" && parts.length === 2) {
    // Without the task (unknown name) or an object schema, task options cannot be listed.
    if (!task || !isObjectSchema(task.options as z.ZodType)) return undefined;
  }
  return `unknown config path${suggestion(path, valid, false)}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether metric `name` is `pattern`, where a family such as `exact_match@<len>` matches any text in place of `<...>`. */
function metricMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  return /<[^>]+>/.test(pattern) &&
    new RegExp(`^${pattern.split(/<[^>]+>/).map(escapeRegExp).join(".+")}$`).test(name);
}

/**
 * What `task` says of metric `name` (without its split): its own entry, else
 * that of a family such as `ppl@<length>`, whose direction holds for every
 * member.
 */
export function metricInfo(task: Task, name: string): MetricInfo | undefined {
  return task.metrics.find((m) => m.name === name) ??
    task.metrics.find((m) => metricMatches(m.name, name));
}

/** Splits `val/exact_match` into split and metric (split defaults to `test`). */
export function parseMetricName(s: string): { split: string; metric: string } {
  const i = s.indexOf("/");
  return i < 0 ? { split: "test", metric: s } : { split: s.slice(0, i), metric: s.slice(i + 1) };
}

function badMetric(s: string, task: Task | undefined): string | undefined {
  const { split, metric } = parseMetricName(s);
  if (!["train", "val", "test"].includes(split)) {
    return `expected a split of train, val or test before "/"`;
  }
  if (split === "train") {
    return metric === "loss" ? undefined : `expected train/loss (train lines carry only the loss)`;
  }
  if (!task) return undefined;
  const names = [...new Set([...task.metrics.map((m) => m.name), "loss"])];
  if (metric === "loss" || metricInfo(task, metric)) return undefined;
  return `unknown metric of task ${task.name}${suggestion(metric, names)}`;
}

// ---------------------------------------------------------------- checking

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Checks the schema cannot express, on the raw data (so they run even when the schema fails). */
function structuralProblems(data: Record<string, unknown>, task: Task | undefined): Problem[] {
  const out: Problem[] = [];
  const axes = isRecord(data.axes) ? data.axes : {};
  const axisKeys = Object.keys(axes);
  const seen = new Map<string, string>();
  const valuesOfPath = new Map<string, unknown[]>();
  for (const axisKey of axisKeys) {
    const paths = axisPaths(axisKey);
    const values = axes[axisKey];
    if (!paths.length) {
      out.push({
        at: ["axes", axisKey],
        key: true,
        subject: showPath(["axes", axisKey]),
        expected: "expected a config path such as model.heads",
        got: axisKey,
      });
    }
    for (const [k, path] of paths.entries()) {
      const why = badConfigPath(path, task);
      if (why) {
        out.push({
          at: ["axes", axisKey],
          key: true,
          subject: showPath(["axes", axisKey]),
          expected: why,
          got: path,
        });
      }
      if (seen.has(path)) {
        out.push({
          at: ["axes", axisKey],
          key: true,
          subject: showPath(["axes", axisKey]),
          expected: `each config path may be one axis only (also in axes["${seen.get(path)}"])`,
          got: path,
        });
      }
      seen.set(path, axisKey);
      if (Array.isArray(values)) {
        valuesOfPath.set(path, values.map((v) => paths.length === 1 ? v : (v as unknown[])?.[k]));
      }
    }
    if (Array.isArray(values)) {
      values.forEach((v, j) => {
        const i = values.findIndex((u) => sameValue(u, v));
        if (i < j) {
          out.push({
            at: ["axes", axisKey, j],
            atAxis: true,
            subject: showPath(["axes", axisKey, j]),
            expected: `a duplicate of ${showPath(["axes", axisKey, i])}: remove one`,
            got: v,
          });
        }
      });
    }
    if (paths.length > 1 && Array.isArray(values)) {
      values.forEach((v, i) => {
        if (!Array.isArray(v) || v.length !== paths.length) {
          out.push({
            at: ["axes", axisKey, i],
            subject: showPath(["axes", axisKey, i]),
            expected: `expected a list of ${paths.length} values, one for each of ${
              paths.join(", ")
            }`,
            got: v,
          });
        }
      });
    }
  }
  const singleAxes = axisKeys.filter((k) => axisPaths(k).length === 1).map((k) => axisPaths(k)[0]);
  if (Array.isArray(data.zip)) {
    const zipped = new Set<string>();
    data.zip.forEach((group, gi) => {
      if (!Array.isArray(group)) return;
      const lengths: [string, number][] = [];
      group.forEach((p, pi) => {
        if (typeof p !== "string") return;
        if (!singleAxes.includes(p)) {
          out.push({
            at: ["zip", gi, pi],
            subject: showPath(["zip", gi, pi]),
            expected: `expected the path of an axis in axes${suggestion(p, singleAxes)}`,
            got: p,
          });
          return;
        }
        if (zipped.has(p)) {
          out.push({
            at: ["zip", gi, pi],
            subject: showPath(["zip", gi, pi]),
            expected: "an axis may be in one zip group only",
            got: p,
          });
        }
        zipped.add(p);
        const vals = axes[
          axisKeys.find((k) => axisPaths(k)[0] === p && axisPaths(k).length === 1)!
        ];
        if (Array.isArray(vals)) lengths.push([p, vals.length]);
      });
      if (new Set(lengths.map(([, n]) => n)).size > 1) {
        out.push({
          at: ["zip", gi],
          subject: showPath(["zip", gi]),
          expected: `zipped axes need equal numbers of values (${
            lengths.map(([p, n]) => `${p} has ${n}`).join(", ")
          })`,
          got: group,
        });
      }
    });
  }
  if (Array.isArray(data.exclude)) {
    data.exclude.forEach((rule, i) => {
      if (!isRecord(rule)) return;
      for (const [p, v] of Object.entries(rule)) {
        const vals = valuesOfPath.get(p);
        if (!vals) {
          out.push({
            at: ["exclude", i, p],
            key: true,
            subject: showPath(["exclude", i, p]),
            expected: `expected the path of an axis${suggestion(p, [...valuesOfPath.keys()])}`,
            got: p,
          });
        } else if (!vals.some((x) => sameValue(x, v))) {
          out.push({
            at: ["exclude", i, p],
            subject: showPath(["exclude", i, p]),
            expected: `expected one of the axis values ${vals.map(showValue).join(", ")}`,
            got: v,
          });
        }
      }
    });
  }
  if (isRecord(data.metrics)) {
    const m = data.metrics;
    if (typeof m.primary === "string") {
      const why = badMetric(m.primary, task);
      if (why) {
        out.push({
          at: ["metrics", "primary"],
          subject: "metrics.primary",
          expected: why,
          got: m.primary,
        });
      }
    }
    if (Array.isArray(m.compare)) {
      m.compare.forEach((c, i) => {
        const why = typeof c === "string" ? badMetric(c, task) : undefined;
        if (why) {
          out.push({
            at: ["metrics", "compare", i],
            subject: showPath(["metrics", "compare", i]),
            expected: why,
            got: c,
          });
        }
      });
    }
  }
  if (isRecord(data.report) && isRecord(data.report.ranges)) {
    for (const name of Object.keys(data.report.ranges)) {
      const why = name.includes("/")
        ? "expected a metric name without a split (a range holds for every split)"
        : badMetric(name, task);
      if (why) {
        out.push({
          at: ["report", "ranges", name],
          key: true,
          subject: showPath(["report", "ranges", name]),
          expected: why,
          got: name,
        });
      }
    }
  }
  // The task's options, when no axis changes them (then each variant is checked later).
  if (task && isRecord(data.task) && !axisKeys.some((k) => k.startsWith("task."))) {
    const { name: _n, ...opts } = data.task;
    const r = (task.options as z.ZodType).safeParse(opts, { reportInput: true });
    if (!r.success) {
      out.push(
        ...issueProblems(
          r.error.issues as Issue[],
          task.options as z.ZodType,
          (p) => ({ at: ["task", ...p] }),
          ["task"],
        ),
      );
    }
  }
  if (Array.isArray(data.seeds) && new Set(data.seeds).size !== data.seeds.length) {
    out.push({
      at: ["seeds"],
      subject: "seeds",
      expected: "expected distinct seeds",
      got: data.seeds,
    });
  }
  return out;
}

/** Where a config path of a variant is written: its axis value, or the base config. */
function variantLocation(variant: Variant) {
  return (path: Segment[]): { at: Segment[]; atAxis?: boolean } => {
    const dotted = path.map(String).join(".");
    for (const [axisPath, src] of Object.entries(variant.sources)) {
      if (
        dotted === axisPath || dotted.startsWith(axisPath + ".") ||
        axisPath.startsWith(dotted + ".")
      ) {
        const paths = axisPaths(src.axisKey);
        const at: Segment[] = ["axes", src.axisKey, src.index];
        if (paths.length > 1) at.push(paths.indexOf(axisPath));
        // Inside an object-valued axis value, follow the rest of the path.
        if (dotted.startsWith(axisPath + ".")) {
          at.push(...dotted.slice(axisPath.length + 1).split("."));
        }
        return { at, atAxis: true };
      }
    }
    return { at: path };
  };
}

/** The preferred place for a check involving several config paths: an axis if one is. */
function preferAxis(variant: Variant, paths: string[]): string {
  return paths.find((p) => p in variant.values) ?? paths[0];
}

/** Deletes the value at `path` in plain data (an unknown key, a wrong value). */
function deletePath(obj: unknown, path: Segment[]): boolean {
  if (!path.length) return false;
  let o = obj;
  for (const seg of path.slice(0, -1)) {
    if (o === null || typeof o !== "object") return false;
    o = (o as Record<string, unknown>)[String(seg)];
  }
  if (o === null || typeof o !== "object") return false;
  delete (o as Record<string, unknown>)[String(path[path.length - 1])];
  return true;
}

/**
 * Parses `raw` with `schema`; on failure, reports the issues, removes the
 * values they are about (unknown keys, wrong values: defaults take their
 * place) and parses again, so that checks after the schema still run. The
 * removed paths (dotted) are added to `repaired`.
 */
function parseRepairing<T>(
  schema: z.ZodType<T>,
  raw: Record<string, unknown>,
  repaired: Set<string>,
  report: (issues: Issue[]) => void,
): T | undefined {
  const data = structuredClone(raw);
  for (let attempt = 0; attempt < 4; attempt++) {
    const r = schema.safeParse(data, { reportInput: true });
    if (r.success) return r.data;
    const issues = r.error.issues as Issue[];
    if (attempt === 0) report(issues);
    let removed = false;
    for (const issue of issues) {
      const path = issue.path.map((p) => typeof p === "number" ? p : String(p)) as Segment[];
      const targets = issue.code === "unrecognized_keys"
        ? (issue.keys ?? []).map((k) => [...path, k])
        : [path];
      for (const t of targets) {
        if (deletePath(data, t)) {
          removed = true;
          repaired.add(t.join("."));
        }
      }
    }
    if (!removed) return undefined;
  }
  return undefined;
}

/** Whether `path` is, contains or lies inside a repaired path. */
function touches(repaired: Set<string>, path: string): boolean {
  for (const r of repaired) {
    if (r === path || r.startsWith(path + ".") || path.startsWith(r + ".")) return true;
  }
  return false;
}

/** Values a float32 tensor may hold before it cannot be allocated (2^28: 1 GiB). */
const MAX_TENSOR = 2 ** 28;

/** The model's largest weight matrices, by the sizes that make them. */
function sizeProblem(m: RunConfig["model"]): { paths: string[]; message: string } | undefined {
  const mats: [string[], string, number][] = [
    [["model.dModel", "model.dFF"], "d_model × d_ff feed-forward weight", m.dModel * m.dFF],
    [["model.dModel"], "d_model × d_model attention weight", m.dModel * m.dModel],
    [["model.maxLen", "model.dModel"], "max_len × d_model positional table", m.maxLen * m.dModel],
    [["model.fusionDim"], "fusion weight", m.fusionDim * Math.max(m.dModel, m.fusionDim)],
  ];
  for (const [paths, what, n] of mats) {
    if (n > MAX_TENSOR) {
      const gib = (n * 4 / 2 ** 30).toPrecision(3);
      return {
        paths,
        message: `a size this large cannot be trained: the ${what} alone would hold ${
          n.toExponential(2)
        } values (${gib} GiB of float32; at most ${MAX_TENSOR.toExponential(2)})`,
      };
    }
  }
  return undefined;
}

function variantProblems(
  exp: Experiment,
  variant: Variant,
  seed: number,
  task: Task,
  backend: BackendName | undefined,
): { problems: Problem[]; config?: RunConfig } {
  const locate = variantLocation(variant);
  const raw = rawRunConfig(exp, variant, seed, backend);
  const problems: Problem[] = [];
  const repaired = new Set<string>();
  const config = parseRepairing(RunConfig, raw, repaired, (issues) => {
    problems.push(...issueProblems(issues, RunConfig, locate));
  });
  if (!config) return { problems };
  const { name: _name, ...rawOptions } = config.task;
  const taskRepaired = new Set<string>();
  const toFile = (p: Segment[]) => locate(["task", ...p]);
  const options = parseRepairing(
    task.options as z.ZodType<Record<string, unknown>>,
    rawOptions,
    taskRepaired,
    (issues) =>
      problems.push(...issueProblems(issues, task.options as z.ZodType, toFile, ["task"])),
  );
  for (const r of taskRepaired) repaired.add(`task.${r}`);
  if (!options) return { problems };
  const resolved: RunConfig = { ...config, task: { name: config.task.name, ...options } };
  const m = config.model;
  const push = (path: string, expected: string) => {
    if (touches(repaired, path)) return;
    problems.push({
      ...locate(path.split(".")),
      subject: path,
      expected,
      got: getPath(resolved, path),
    });
  };
  const involves = (...paths: string[]) => paths.some((p) => touches(repaired, p));
  const split = headSplitProblem(m.dModel, m.heads, m.positional);
  if (involves("model.heads", "model.dModel")) {
    // a repaired size says nothing about the sizes written
  } else if (split?.rule === "divide") {
    const p = preferAxis(variant, ["model.heads", "model.dModel"]);
    push(
      p,
      p === "model.heads"
        ? `expected a divisor of model.dModel = ${m.dModel} (heads split d_model evenly)`
        : `expected a multiple of model.heads = ${m.heads} (heads split d_model evenly)`,
    );
  } else if (split?.rule === "rope-even" && !involves("model.positional")) {
    const p = preferAxis(variant, ["model.positional", "model.heads", "model.dModel"]);
    push(p, `rope needs an even head width, but d_model / heads = ${m.dModel / m.heads}`);
  }
  const size = sizeProblem(m);
  if (size && !involves(...size.paths)) push(preferAxis(variant, size.paths), size.message);
  try {
    for (const [path, message] of task.check?.(resolved, options) ?? []) push(path, message);
  } catch (e) {
    push("task", `the task's check() failed: ${(e as Error).message}`);
  }
  return { problems, config: problems.length || repaired.size ? undefined : resolved };
}

/**
 * The task's checks of its data files, once per distinct set of options
 * among the valid variants (each file is opened once).
 */
async function dataProblems(
  task: Task,
  configs: Map<Variant, RunConfig>,
): Promise<Problem[]> {
  if (!task.checkData) return [];
  const out: Problem[] = [];
  const seen = new Map<string, [string, string][]>();
  for (const [variant, config] of configs) {
    const { name: _n, ...options } = config.task;
    const key = canonicalJson(options);
    let found = seen.get(key);
    if (!found) {
      try {
        found = await task.checkData(options);
      } catch (e) {
        found = [["task", `the task's data check failed: ${(e as Error).message}`]];
      }
      seen.set(key, found);
    }
    const locate = variantLocation(variant);
    for (const [path, message] of found) {
      out.push({
        ...locate(path.split(".")),
        subject: path,
        expected: message,
        got: getPath(config, path),
        variant: variant.key,
      });
    }
  }
  return out;
}

function format(source: ExperimentSource, p: Problem, total: number, variants: string[]): string {
  const pos = source.locate(p.at, p.key);
  let line = `${source.file}:${pos.line}:${pos.col} ${p.subject}: ${p.expected} (got ${
    showValue(p.got)
  })`;
  if (!p.atAxis && variants.length && variants.length < total) {
    line += ` [variant ${variants[0]}${
      variants.length > 1 ? ` and ${variants.length - 1} more` : ""
    }]`;
  }
  return line;
}

/** Formats problems, one line each, in file order, identical ones once. */
function formatAll(source: ExperimentSource, problems: Problem[], totalVariants: number): string[] {
  const groups = new Map<string, { p: Problem; variants: string[] }>();
  for (const p of problems) {
    const pos = source.locate(p.at, p.key);
    const k = JSON.stringify([pos.line, pos.col, p.subject, p.expected, showValue(p.got)]);
    const g = groups.get(k);
    if (g) {
      if (p.variant) g.variants.push(p.variant);
    } else groups.set(k, { p, variants: p.variant ? [p.variant] : [] });
  }
  return [...groups.values()]
    .map(({ p, variants }) => ({
      pos: source.locate(p.at, p.key),
      text: format(source, p, totalVariants, variants),
    }))
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col)
    .map((x) => x.text);
}

/**
 * The part of an experiment with mistakes that can still be expanded into
 * variants and checked: axes without mistakes of their own, and zip,
 * exclusions and seeds when they are well formed.
 */
function usablePart(data: Record<string, unknown>, problems: Problem[]): Experiment {
  // Duplicate values are dropped; an axis with any other mistake is left out.
  const badAxes = new Set(
    problems.filter((p) =>
      p.at[0] === "axes" && p.at.length >= 2 && !p.expected.startsWith("a duplicate of")
    ).map((p) => String(p.at[1])),
  );
  const axes = Object.fromEntries(
    Object.entries(isRecord(data.axes) ? data.axes : {}).filter(([k, v]) =>
      !badAxes.has(k) && Array.isArray(v) && v.length > 0 &&
      (axisPaths(k).length === 1 || v.every((x) => Array.isArray(x)))
    ).map(([k, v]) => [
      k,
      (v as unknown[]).filter((x, i, all) => all.findIndex((y) => sameValue(x, y)) === i),
    ]),
  ) as Record<string, unknown[]>;
  const single = new Set(Object.keys(axes).filter((k) => axisPaths(k).length === 1));
  const zipOk = Array.isArray(data.zip) && !problems.some((p) => p.at[0] === "zip") &&
    data.zip.every((g) => Array.isArray(g) && g.every((x) => single.has(x as string)));
  const excludeOk = Array.isArray(data.exclude) && data.exclude.every(isRecord) &&
    !problems.some((p) => p.at[0] === "exclude");
  const seedsOk = (Number.isInteger(data.seeds) && (data.seeds as number) >= 1) ||
    (Array.isArray(data.seeds) && data.seeds.length > 0 && data.seeds.every(Number.isInteger));
  return {
    ...data,
    axes,
    zip: zipOk ? data.zip : undefined,
    exclude: excludeOk ? data.exclude : undefined,
    seeds: seedsOk ? data.seeds : undefined,
  } as Experiment;
}

/** Whether every axis path the baseline names is an axis being expanded. */
function baselineAxesKnown(exp: Experiment): boolean {
  const known = new Set(Object.keys(exp.axes ?? {}).flatMap(axisPaths));
  const b = exp.baseline;
  const paths = typeof b === "string"
    ? b.split(",").map((part) => part.split("=")[0].trim())
    : Object.keys(b ?? {});
  return paths.every((p) => known.has(p));
}

/** The schema, the task name and the structural checks, on the raw data. */
function firstProblems(
  data: unknown,
  catalog: TaskCatalog,
): { problems: Problem[]; parsed?: Experiment; task?: Task } {
  const problems: Problem[] = [];
  const r = Experiment.safeParse(data, { reportInput: true });
  if (!r.success) {
    problems.push(...issueProblems(r.error.issues as Issue[], Experiment, (p) => ({ at: p })));
  }
  let task: Task | undefined;
  if (isRecord(data)) {
    const name = isRecord(data.task) ? data.task.name : undefined;
    if (typeof name === "string") {
      task = catalog.get(name);
      if (!task) {
        problems.push({
          at: ["task", "name"],
          subject: "task.name",
          expected: `unknown task${suggestion(name, catalog.names())}`,
          got: name,
        });
      }
    }
    problems.push(...structuralProblems(data, task));
  }
  return { problems, parsed: r.success ? r.data : undefined, task };
}

/**
 * The variants left after the exclusions, and the baseline's key. Unused
 * exclusions are reported only when the file is otherwise clean (an axis
 * left out for its own mistake would make them look unused).
 */
function variantsOf(
  exp: Experiment,
  clean: boolean,
  problems: Problem[],
): { variants: Variant[]; baseline: string } {
  const all = expandVariants(exp);
  const rules = exp.exclude ?? [];
  const used = rules.map(() => false);
  const variants = all.filter((v) => {
    let keep = true;
    rules.forEach((r, i) => {
      if (matchesExclusion(v, r)) {
        used[i] = true;
        keep = false;
      }
    });
    return keep;
  });
  used.forEach((u, i) => {
    if (!u && clean) {
      problems.push({
        at: ["exclude", i],
        subject: showPath(["exclude", i]),
        expected: "this exclusion matches no variant",
        got: rules[i],
      });
    }
  });
  if (all.length && !variants.length && clean) {
    problems.push({
      at: ["exclude"],
      subject: "exclude",
      expected: "at least one variant must remain",
      got: rules,
    });
  }
  let baseline = variants[0]?.key ?? "base";
  if (exp.baseline !== undefined && (clean || baselineAxesKnown(exp))) {
    const b = exp.baseline;
    const found = typeof b === "string"
      ? variants.find((v) => v.key === b)
      : variants.find((v) => matchesExclusion(v, b));
    if (found) baseline = found.key;
    else {
      problems.push({
        at: ["baseline"],
        subject: "baseline",
        expected: `expected a variant${
          typeof b === "string" ? suggestion(b, variants.map((v) => v.key)) : ""
        }`,
        got: b,
      });
    }
  }
  return { variants, baseline };
}

/** Runs: variant × seed, ids from the resolved configs; two variants with one config are a mistake. */
async function planRuns(
  variants: Variant[],
  configs: Map<Variant, RunConfig>,
  seeds: number[],
  problems: Problem[],
): Promise<PlannedRun[]> {
  const runs: PlannedRun[] = [];
  const byId = new Map<string, PlannedRun>();
  for (const v of variants) {
    for (const seed of seeds) {
      const config = { ...configs.get(v)!, seed };
      const id = await runIdOf(config);
      const twin = byId.get(id);
      if (twin) {
        const axisPath = Object.keys(v.values)[0];
        const src = v.sources[axisPath];
        problems.push({
          at: src ? ["axes", src.axisKey, src.index] : ["axes"],
          atAxis: true,
          subject: src ? showPath(["axes", src.axisKey, src.index]) : "axes",
          expected: `variants ${twin.variantKey} and ${v.key} resolve to the same config`,
          got: src ? v.values[axisPath] : undefined,
        });
        break;
      }
      const run: PlannedRun = {
        id,
        index: runs.length,
        variant: v.values,
        variantKey: v.key,
        seed,
        config,
      };
      byId.set(id, run);
      runs.push(run);
    }
  }
  return runs;
}

/**
 * Validates an experiment file as read (`source`, syntax errors already
 * reported) against the tasks of `catalog`, and plans its runs. Throws
 * {@link ExperimentError} listing every mistake, all at once: mistakes in
 * the schema or the axes do not stop the checks of the variants (values in
 * error are replaced by their defaults there, and checks that involve them
 * skipped), nor the checks of the data files.
 */
export async function validateExperiment(
  source: ExperimentSource,
  catalog: TaskCatalog,
  opts: ValidateOptions = {},
): Promise<ValidExperiment> {
  const fail = (problems: Problem[], total: number) =>
    new ExperimentError(source.file, formatAll(source, problems, total));
  const data = source.data;
  const { problems, parsed, task } = firstProblems(data, catalog);
  if (!task || !isRecord(data)) throw fail(problems, 1);
  const clean = problems.length === 0 && parsed !== undefined;
  const exp = clean ? parsed! : usablePart(parsed ?? data, problems);
  const { variants, baseline } = variantsOf(exp, clean, problems);
  const seeds = seedsOf(exp);
  const configs = new Map<Variant, RunConfig>();
  for (const v of variants) {
    const r = variantProblems(exp, v, seeds[0], task, opts.backend);
    problems.push(...r.problems.map((p) => ({ ...p, variant: v.key })));
    if (r.config) configs.set(v, r.config);
  }
  if (opts.checkData !== false) problems.push(...await dataProblems(task, configs));
  if (problems.length) throw fail(problems, variants.length);
  const runs = await planRuns(variants, configs, seeds, problems);
  if (problems.length) throw fail(problems, variants.length);
  return { experiment: exp, task, baseline, seeds, runs };
}
