/**
 * Reads one experiment's results folder (the format of
 * `lib/contract/results.ts`) into memory, with clear errors for what is
 * unusable and a list of problems for what is merely incomplete.
 *
 * @module
 */
import type {
  EnvRecord,
  Manifest,
  ManifestRun,
  MetricsLine,
  RunRecord,
  StatusRecord,
} from "../contract/results.ts";
import { exists, readJson } from "../util/atomic.ts";
import { ARTIFACTS, CORRECTIONS } from "../contract/results.ts";

/** Everything recorded about one planned run. */
export interface RunData {
  /** The run as planned in `manifest.json`. */
  run: ManifestRun;
  /** `config.json`, when written. */
  record?: RunRecord;
  /** `env.json`, when written. */
  env?: EnvRecord;
  /** `{ state: "pending" }` when the run never wrote a status. */
  status: StatusRecord;
  /** The lines of `metrics.jsonl` that parsed. */
  metrics: MetricsLine[];
  /** Artifact name → parsed JSON, for the names in `ARTIFACTS` that exist. */
  artifacts: Record<string, unknown>;
}

/** One experiment as read from disk. */
export interface ExperimentData {
  /** The experiment's results folder. */
  dir: string;
  /** `manifest.json`, with defaults filled in. */
  manifest: Manifest;
  /** Every planned run, in plan order. */
  runs: RunData[];
  /** Readable notes about files that were missing or damaged (never fatal). */
  problems: string[];
}

/** Joins path parts with "/" (the report only runs where "/" works). */
export function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

function checkManifest(m: unknown, path: string): Manifest {
  const fix = "rerun `deno task exp <experiment file>` to rewrite it";
  if (typeof m !== "object" || m === null) throw new Error(`${path}: not a JSON object; ${fix}`);
  const o = m as Record<string, unknown>;
  const need: [string, (v: unknown) => boolean, string][] = [
    ["experiment", (v) => typeof v === "string", "a string"],
    ["axes", (v) => typeof v === "object" && v !== null && !Array.isArray(v), "an object"],
    ["seeds", Array.isArray, "an array"],
    ["primary", (v) => typeof (v as { metric?: unknown })?.metric === "string", "{ metric, … }"],
    ["runs", Array.isArray, "an array"],
  ];
  for (const [key, ok, what] of need) {
    if (!ok(o[key])) throw new Error(`${path}: field "${key}" must be ${what}; ${fix}`);
  }
  (o.runs as unknown[]).forEach((r, i) => {
    const run = r as Record<string, unknown>;
    if (typeof run?.id !== "string" || typeof run?.variantKey !== "string") {
      throw new Error(`${path}: runs[${i}] needs string "id" and "variantKey"; ${fix}`);
    }
  });
  if (o.correction !== undefined && !(CORRECTIONS as readonly unknown[]).includes(o.correction)) {
    throw new Error(
      `${path}: field "correction" must be one of ${CORRECTIONS.join(", ")}; ${fix}`,
    );
  }
  if (o.ranges !== undefined) {
    const ranges = o.ranges as Record<string, unknown>;
    const bad = typeof ranges !== "object" || ranges === null ? "ranges" : Object.keys(ranges)
      .find((k) => {
        const r = ranges[k];
        return !Array.isArray(r) || r.length !== 2 || !(r[0] < r[1]);
      });
    if (bad !== undefined) {
      throw new Error(`${path}: field "ranges" must map metrics to [low, high]; ${fix}`);
    }
  }
  const manifest = o as unknown as Manifest;
  manifest.compare ??= [];
  manifest.file ??= "";
  manifest.primary.higherIsBetter ??= true;
  for (const r of manifest.runs) {
    r.variant ??= {};
    r.seed ??= 0;
  }
  manifest.baseline ??= manifest.runs[0]?.variantKey ?? "";
  return manifest;
}

/** Parses `metrics.jsonl`, skipping (and reporting) lines that are not JSON objects. */
function parseMetrics(text: string, path: string, problems: string[]): MetricsLine[] {
  const lines: MetricsLine[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const o = JSON.parse(line);
      if (typeof o !== "object" || o === null || typeof o.step !== "number") {
        throw new Error("not an object with a numeric step");
      }
      lines.push(o as MetricsLine);
    } catch (e) {
      problems.push(`${path}:${i + 1}: skipped (${(e as Error).message})`);
    }
  });
  return lines;
}

/**
 * Reads `<dir>/manifest.json` and every planned run's files. Throws when the
 * manifest is missing or malformed; anything missing or damaged inside a run
 * is recorded in `problems` and the run is shown with what it has.
 */
export async function loadResults(dir: string): Promise<ExperimentData> {
  dir = dir.replace(/\/+$/, "") || ".";
  const manifestPath = join(dir, "manifest.json");
  const raw = await readJson(manifestPath);
  if (raw === undefined) {
    throw new Error(
      `${manifestPath}: not found; is ${dir} a results/<experiment> folder written by ` +
        "`deno task exp`? Run the experiment first.",
    );
  }
  const manifest = checkManifest(raw, manifestPath);
  const problems: string[] = [];
  const runs: RunData[] = [];
  for (const run of [...manifest.runs].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
    const runDir = join(dir, "runs", run.id);
    const data: RunData = { run, status: { state: "pending" }, metrics: [], artifacts: {} };
    const read = async (name: string) => {
      try {
        return await readJson(join(runDir, name));
      } catch (e) {
        problems.push((e as Error).message);
        return undefined;
      }
    };
    data.record = await read("config.json") as RunRecord | undefined;
    data.env = await read("env.json") as EnvRecord | undefined;
    const status = await read("status.json") as StatusRecord | undefined;
    if (status && typeof status === "object" && typeof status.state === "string") {
      data.status = status;
    } else if (status !== undefined) {
      problems.push(`${join(runDir, "status.json")}: no "state" field; shown as pending`);
    }
    const metricsPath = join(runDir, "metrics.jsonl");
    try {
      data.metrics = parseMetrics(await Deno.readTextFile(metricsPath), metricsPath, problems);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const name of ARTIFACTS) {
      const path = join(runDir, "artifacts", `${name}.json`);
      if (!(await exists(path))) continue;
      const value = await read(join("artifacts", `${name}.json`));
      if (value !== undefined) data.artifacts[name] = value;
    }
    runs.push(data);
  }
  return { dir, manifest, runs, problems };
}
