/**
 * `deno task exp`: run, plan and inspect experiments.
 *
 * ```
 * deno task exp <file> [options]      run every variant × seed (resuming)
 * deno task exp status <file>         per run: state, step, primary metric
 * ```
 *
 * Exit status: 0 success, 1 some run failed, 2 a bad experiment file or bad arguments.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { type BackendName, BACKENDS, BackendUnavailableError } from "../engine/backend.ts";
import type { LoopProgress } from "../train/loop.ts";
import { DamagedFileError, exists } from "../util/atomic.ts";
import type { LaunchContext, LauncherModule } from "../experiment/launch.ts";
import { formatValue, type PlannedRun } from "../experiment/plan.ts";
import type { RunState, StatusRecord } from "../contract/results.ts";
import { executeRun, isLive, RunBusyError, runDir } from "../experiment/run.ts";
import {
  decide,
  planStatuses,
  runSweep,
  WORKER_EXIT,
  WORKER_PREFIX,
  writeManifest,
} from "../experiment/sweep.ts";
import { type LoadedExperiment, loadExperiment } from "../experiment/loader.ts";
import { ExperimentError } from "../experiment/validate.ts";

const HELP = `usage:
  deno task exp <experiment file> [options]   run every variant × seed
  deno task exp status <experiment file>      what is done, running, failed

options:
  --dry-run               print the plan (id, axis values, seed, state) and exit
  --only AXIS=VALUE,...   only the runs with these axis values (repeatable; an axis
                          may be named by its last part: --only positional=learned,seed=0)
  --backend NAME          ${BACKENDS.join("|")} (part of each run's config and id)
  --jobs N                run N variants in parallel worker processes
  --retry-failed          re-run failed runs (done runs are always kept)
  --force ID|all          start these runs afresh (repeatable)
  --results DIR           results root (default: the file's resultsDir, else results/)
  --run-index I           run only the I-th planned run
  --run-id ID             run only this run (what cluster array tasks use)
  --launcher NAME         hand the plan to lib/launch/NAME.ts (options exp does not know,
                          and everything after --, go to it)
  --no-report             do not rebuild the report at the end
  --no-live               no live report while the sweep runs (only the final one)
  --plain                 plain progress lines even on a terminal
  -h, --help              this help

Re-running an experiment skips done runs and resumes interrupted ones from their
last checkpoint. Results: <results>/<experiment>/runs/<run-id>/ (see docs/experiments.md).`;

class UsageError extends Error {}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

/** Parses `--only` filters into axis path → accepted value strings. */
function parseOnly(specs: string[], loaded: LoadedExperiment): Map<string, Set<string>> {
  const axes = [...Object.keys(loaded.plan.manifest.axes), "seed"];
  const out = new Map<string, Set<string>>();
  for (const spec of specs) {
    for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
      const eq = part.indexOf("=");
      if (eq < 0) throw new UsageError(`--only ${part}: expected AXIS=VALUE`);
      const name = part.slice(0, eq).trim(), value = part.slice(eq + 1).trim();
      const matches = axes.filter((a) => a === name || a.endsWith("." + name));
      if (matches.length !== 1) {
        throw new UsageError(
          `--only ${part}: ${matches.length ? "ambiguous" : "unknown"} axis "${name}"; ` +
            `axes: ${axes.join(", ")}`,
        );
      }
      const axis = matches[0];
      const values = axis === "seed"
        ? loaded.plan.manifest.seeds.map(String)
        : loaded.plan.manifest.axes[axis].map(formatValue);
      if (!values.includes(value)) {
        throw new UsageError(`--only ${part}: ${axis} has no value ${value}; values: ${values}`);
      }
      if (!out.has(axis)) out.set(axis, new Set());
      out.get(axis)!.add(value);
    }
  }
  return out;
}

function selectRuns(loaded: LoadedExperiment, only: Map<string, Set<string>>): PlannedRun[] {
  return loaded.plan.runs.filter((run) =>
    [...only].every(([axis, values]) =>
      values.has(axis === "seed" ? String(run.seed) : formatValue(run.variant[axis]))
    )
  );
}

function stateOf(s: StatusRecord | undefined): RunState {
  return s?.state ?? "pending";
}

/**
 * The state to show: a run whose lock is held shows as `running`, a
 * `running` run without a live holder as `interrupted`, a run whose
 * status.json is damaged as `damaged`.
 */
function shownState(s: StatusRecord | undefined, dir: string, damaged = false): string {
  if (isLive(dir)) return "running";
  if (damaged) return "damaged";
  if (s?.state === "running") return "interrupted";
  return stateOf(s);
}

function planTable(
  loaded: LoadedExperiment,
  runs: PlannedRun[],
  statuses: Map<string, StatusRecord | undefined>,
  damaged: Map<string, string>,
  extra?: { header: string; cell(run: PlannedRun, s: StatusRecord | undefined): string }[],
): string {
  const axes = Object.keys(loaded.plan.manifest.axes);
  const header = ["#", "id", ...axes, "seed", "state", ...(extra ?? []).map((e) => e.header)];
  const rows = runs.map((run) => {
    const s = statuses.get(run.id);
    return [
      String(run.index),
      run.id,
      ...axes.map((a) => formatValue(run.variant[a])),
      String(run.seed),
      shownState(s, runDir(loaded.experimentDir, run.id), damaged.has(run.id)),
      ...(extra ?? []).map((e) => e.cell(run, s)),
    ];
  });
  return table(header, rows);
}

async function launchContext(
  loaded: LoadedExperiment,
  runs: PlannedRun[],
  forwardArgs: string[],
): Promise<LaunchContext> {
  const damaged = new Map<string, string>();
  const statuses = await planStatuses(loaded, damaged);
  for (const note of damagedNotes(loaded, damaged)) console.error(note);
  return {
    file: loaded.file,
    experiment: loaded.experiment,
    manifest: loaded.plan.manifest,
    resultsDir: loaded.experimentDir,
    resultsRoot: loaded.resultsRoot,
    runs: runs.map(({ config: _c, ...r }) => ({
      ...r,
      state: stateOf(statuses.get(r.id)),
      dir: runDir(loaded.experimentDir, r.id),
    })),
    forwardArgs,
  };
}

async function importLauncher(name: string): Promise<LauncherModule> {
  if (!/^[a-z0-9_-]+$/.test(name)) throw new UsageError(`--launcher ${name}: not a launcher name`);
  const url = new URL(`../launch/${name}.ts`, import.meta.url);
  if (!(await exists(url.pathname))) {
    throw new UsageError(`--launcher ${name}: lib/launch/${name}.ts does not exist`);
  }
  return await import(url.href) as LauncherModule;
}

/** One line per damaged status.json, saying how to repair it. */
function damagedNotes(loaded: LoadedExperiment, damaged: Map<string, string>): string[] {
  return [...damaged].map(([id, message]) =>
    `${message} (deno task exp ${loaded.file} --force ${id})`
  );
}

async function statusCommand(loaded: LoadedExperiment, runs: PlannedRun[]): Promise<number> {
  const damaged = new Map<string, string>();
  const statuses = await planStatuses(loaded, damaged);
  const primary = loaded.plan.manifest.primary.metric;
  let scheduler: Record<string, string> | undefined;
  if (await exists(`${loaded.experimentDir}/slurm.json`)) {
    try {
      const mod = await importLauncher("slurm");
      scheduler = await mod.slurmStatus?.(await launchContext(loaded, runs, []));
    } catch (e) {
      console.error(`slurm status unavailable: ${(e as Error).message}`);
    }
  }
  const extra = [
    {
      header: "step",
      cell: (_r: PlannedRun, s?: StatusRecord) =>
        s?.step !== undefined ? `${s.step}/${s.totalSteps ?? "?"}` : "",
    },
    {
      header: primary,
      cell: (_r: PlannedRun, s?: StatusRecord) => {
        const v = s?.final?.[primary];
        // null: a metric the run could not compute (NaN in its status.json)
        return typeof v === "number" ? String(Number(v.toPrecision(4))) : v === null ? "none" : "";
      },
    },
    ...(scheduler ? [{ header: "slurm", cell: (r: PlannedRun) => scheduler![r.id] ?? "" }] : []),
    {
      header: "note",
      cell: (_r: PlannedRun, s?: StatusRecord) =>
        s?.state === "failed" || s?.state === "diverged"
          ? (s.error ?? "").split("\n")[0].slice(0, 60)
          : "",
    },
  ];
  console.log(planTable(loaded, runs, statuses, damaged, extra));
  for (const note of damagedNotes(loaded, damaged)) console.log(note);
  const counts = new Map<string, number>();
  for (const r of runs) {
    const st = shownState(
      statuses.get(r.id),
      runDir(loaded.experimentDir, r.id),
      damaged.has(r.id),
    );
    counts.set(st, (counts.get(st) ?? 0) + 1);
  }
  console.log(
    `\n${loaded.experiment.name}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}` +
      ` of ${runs.length} runs`,
  );
  return 0;
}

/**
 * Ends this worker when its parent dies: the parent holds the write end of
 * our stdin and never writes, so end of input means it is gone. The run's
 * lock dies with the process and its status stays `running`: interrupted,
 * resumed by the next sweep.
 */
function exitWithParent(): void {
  (async () => {
    const buf = new Uint8Array(256);
    try {
      while ((await Deno.stdin.read(buf)) !== null) {
        // nothing is ever sent
      }
    } catch {
      // a closed pipe is the same news
    }
    Deno.exit(WORKER_EXIT.orphaned);
  })();
}

/** A worker (spawned by `--jobs`): runs one run, reporting progress as JSON lines. */
async function workerCommand(
  loaded: LoadedExperiment,
  run: PlannedRun,
  retryFailed: boolean,
): Promise<number> {
  exitWithParent();
  const dir = runDir(loaded.experimentDir, run.id);
  let last = 0;
  let trained = true;
  const encoder = new TextEncoder();
  let status: StatusRecord;
  try {
    status = await executeRun({
      experiment: loaded.experiment.name,
      run,
      task: loaded.task,
      dir,
      shouldRun: (s) => (trained = decide(s, false, retryFailed) !== "skip"),
      progress: (p: LoopProgress) => {
        const now = performance.now();
        if (now - last < 200 && p.step < p.totalSteps && p.phase === "training") return;
        last = now;
        try {
          Deno.stdout.writeSync(encoder.encode(WORKER_PREFIX + JSON.stringify(p) + "\n"));
        } catch {
          // The parent is gone (broken pipe): leave the run interrupted, not failed.
          Deno.exit(WORKER_EXIT.orphaned);
        }
      },
    });
  } catch (e) {
    if (e instanceof RunBusyError) return WORKER_EXIT.busy;
    throw e;
  }
  if (!trained) return WORKER_EXIT.skipped;
  return status.state === "failed" ? 1 : 0;
}

const OPTIONS = {
  "dry-run": { type: "boolean" },
  only: { type: "string", multiple: true },
  backend: { type: "string" },
  jobs: { type: "string" },
  "retry-failed": { type: "boolean" },
  force: { type: "string", multiple: true },
  results: { type: "string" },
  "run-index": { type: "string" },
  "run-id": { type: "string" },
  worker: { type: "boolean" },
  launcher: { type: "string" },
  "no-report": { type: "boolean" },
  "no-live": { type: "boolean" },
  plain: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Splits the command line between `exp` and a launcher. Arguments after `--`
 * go to the launcher; with `--launcher`, so do options `exp` does not know
 * (`--partition P`, `--time=1:00:00`...), each with its value, so that
 * `exp <file> --launcher slurm --partition gpu --max-parallel 4` works as written.
 */
export function splitLauncherArgs(args: string[]): { ownArgs: string[]; launcherArgs: string[] } {
  const dashdash = args.indexOf("--");
  const before = dashdash >= 0 ? args.slice(0, dashdash) : args;
  const launcherArgs = dashdash >= 0 ? args.slice(dashdash + 1) : [];
  if (!before.some((a) => a === "--launcher" || a.startsWith("--launcher="))) {
    return { ownArgs: before, launcherArgs };
  }
  const ownArgs: string[] = [];
  const forwarded: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const a = before[i];
    const name = a.startsWith("--") ? a.slice(2).split("=")[0] : "";
    if (!name || name in OPTIONS) {
      ownArgs.push(a);
      const known = OPTIONS[name as keyof typeof OPTIONS];
      if (known?.type === "string" && !a.includes("=") && i + 1 < before.length) {
        ownArgs.push(before[++i]);
      }
      continue;
    }
    forwarded.push(a);
    if (!a.includes("=") && i + 1 < before.length && !before[i + 1].startsWith("--")) {
      forwarded.push(before[++i]);
    }
  }
  return { ownArgs, launcherArgs: [...forwarded, ...launcherArgs] };
}

/** Error codes of the file system that are the machine's state, not a bug. */
const ENVIRONMENT_CODES = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EACCES",
  "EPERM",
  "ENOTDIR",
  "EISDIR",
  "EEXIST",
  "EIO",
]);

/**
 * The one line to print for an expected fault of the environment (a damaged
 * results file, a read-only or full disk, a permission refused), or
 * `undefined` for a bug (which keeps its stack trace).
 */
export function environmentFault(e: unknown): string | undefined {
  if (e instanceof DamagedFileError) return `error: ${e.message}`;
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: string }).code;
  const denied = e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable;
  if (!denied && !(code && ENVIRONMENT_CODES.has(code))) return undefined;
  const hint = code === "ENOSPC" || code === "EDQUOT"
    ? "free some space, then run the same command again: finished runs are kept"
    : e instanceof Deno.errors.NotCapable
    ? "run it through `deno task exp`, which grants the permissions it needs"
    : "check that the results folder (--results) is writable, then run the same command again";
  return `error: ${e.message.split("\n")[0]}; ${hint}`;
}

/** `deno task exp ...`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const { ownArgs, launcherArgs } = splitLauncherArgs(args);
  let parsed;
  try {
    parsed = parseArgs({ args: ownArgs, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const isStatus = positionals[0] === "status";
  const files = isStatus ? positionals.slice(1) : positionals;
  if (files.length !== 1) {
    console.error(
      `${files.length ? "expected one experiment file" : "no experiment file given"}\n\n${HELP}`,
    );
    return 2;
  }
  const file = files[0];
  try {
    if (o.backend !== undefined && !(BACKENDS as readonly string[]).includes(o.backend)) {
      throw new UsageError(`--backend ${o.backend}: expected one of ${BACKENDS.join(", ")}`);
    }
    const jobs = o.jobs === undefined ? 1 : Number(o.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) {
      throw new UsageError(`--jobs ${o.jobs}: expected a positive integer`);
    }
    const loaded = await loadExperiment(file, {
      backend: o.backend as BackendName | undefined,
      resultsRoot: o.results,
    });
    const runs = selectRuns(loaded, parseOnly(o.only ?? [], loaded));
    const force: Set<string> | "all" = (o.force ?? []).includes("all")
      ? "all"
      : new Set(o.force ?? []);
    if (force !== "all") {
      for (const id of force) {
        if (!loaded.plan.runs.some((r) => r.id === id)) {
          throw new UsageError(`--force ${id}: no planned run has this id (see --dry-run)`);
        }
      }
    }
    const forwardArgs = [
      ...(o.backend ? ["--backend", o.backend] : []),
      ...(o.results ? ["--results", resolve(o.results)] : []),
    ];

    if (isStatus) return await statusCommand(loaded, runs);

    if (o["dry-run"]) {
      const damaged = new Map<string, string>();
      const statuses = await planStatuses(loaded, damaged);
      const m = loaded.plan.manifest;
      console.log(
        `${m.experiment}: ${plural(runs.length, "run")}` +
          ` (${plural(new Set(runs.map((r) => r.variantKey)).size, "variant")} × ${
            plural(m.seeds.length, "seed")
          }` +
          `${
            runs.length < loaded.plan.runs.length
              ? `, filtered from ${loaded.plan.runs.length}`
              : ""
          })` +
          ` → ${loaded.experimentDir}`,
      );
      console.log(
        `task: ${loaded.task.name}; primary: ${m.primary.metric} (${
          m.primary.higherIsBetter ? "higher" : "lower"
        } is better)\n`,
      );
      console.log(planTable(loaded, runs, statuses, damaged));
      for (const note of damagedNotes(loaded, damaged)) console.log(note);
      return 0;
    }

    if (o.worker) {
      const run = loaded.plan.runs.find((r) => r.id === o["run-id"]);
      if (!run) throw new UsageError(`--run-id ${o["run-id"]}: no planned run has this id`);
      return await workerCommand(loaded, run, !!o["retry-failed"]);
    }

    if (o.launcher) {
      await writeManifest(loaded.experimentDir, loaded.plan.manifest);
      const mod = await importLauncher(o.launcher);
      // `--no-report` is exp's own option, and the launcher's too: before `--` it is meant for both.
      const extra = o["no-report"] && !launcherArgs.includes("--no-report") ? ["--no-report"] : [];
      return await mod.launch(await launchContext(loaded, runs, forwardArgs), [
        ...launcherArgs,
        ...extra,
      ]);
    }

    let selected = runs;
    let report = !o["no-report"];
    if (o["run-index"] !== undefined || o["run-id"] !== undefined) {
      const i = Number(o["run-index"]);
      const run = o["run-id"] !== undefined
        ? loaded.plan.runs.find((r) => r.id === o["run-id"])
        : Number.isInteger(i)
        ? loaded.plan.runs[i]
        : undefined;
      if (!run) {
        throw new UsageError(
          o["run-id"] !== undefined
            ? `--run-id ${o["run-id"]}: no planned run has this id`
            : `--run-index ${o["run-index"]}: expected 0 … ${loaded.plan.runs.length - 1}`,
        );
      }
      selected = [run];
      report = false;
    }
    const summary = await runSweep(loaded, {
      runs: selected,
      jobs,
      retryFailed: !!o["retry-failed"],
      force,
      workerArgs: o.backend ? ["--backend", o.backend] : [],
      report,
      live: !o["no-live"],
      tty: o.plain ? false : undefined,
    });
    return summary.exitCode;
  } catch (e) {
    if (e instanceof ExperimentError) {
      for (const line of e.lines) console.error(line);
      console.error(
        `${e.lines.length} mistake${e.lines.length === 1 ? "" : "s"} in ${file}; nothing was run`,
      );
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof BackendUnavailableError) {
      console.error(e.message);
      return 1;
    }
    const fault = environmentFault(e);
    if (fault) {
      console.error(fault);
      return 1;
    }
    throw e;
  }
}
