/**
 * Running a sweep: which planned runs to do (done runs are skipped, failed
 * ones only retried when asked, interrupted ones resumed), doing them in this
 * process or in `--jobs N` worker processes, and rebuilding the report.
 *
 * Each run's folder is written only by the process holding the run's lock
 * (lock.ts): a second sweep on the same folder skips the runs being trained,
 * trains the others, and says so. The manifest is written by the parent,
 * atomically. `--jobs` workers end when their parent dies (their stdin, a
 * pipe from the parent, closes), leaving their runs interrupted.
 *
 * @module
 */
import { resolve } from "node:path";
import { describeBackend, selectBackend } from "../engine/backend.ts";
import type { LoopProgress } from "../train/loop.ts";
import { DamagedFileError, exists, writeJsonAtomic } from "../util/atomic.ts";
import { getCodeVersion } from "./env.ts";
import type { PlannedRun } from "./plan.ts";
import { liveFor, sweepDisplay } from "./live.ts";
import type { ProgressDisplay } from "./progress.ts";
import type { Manifest, StatusRecord } from "../contract/results.ts";
import { RunLock } from "./lock.ts";
import { clearRun, executeRun, isLive, readStatus, RunBusyError, runDir } from "./run.ts";
import type { LoadedExperiment } from "./loader.ts";

/** Prefix of the progress lines a worker prints for its parent. */
export const WORKER_PREFIX = "@@fuselab ";

/**
 * Exit codes of a worker that did not train its run: another process holds
 * it (`busy`), it was finished meanwhile (`skipped`), or the parent died
 * (`orphaned`: the run is left interrupted).
 */
export const WORKER_EXIT = { busy: 75, skipped: 76, orphaned: 77 } as const;

/** Writes manifest.json unless it already holds exactly this content. */
export async function writeManifest(experimentDir: string, manifest: Manifest): Promise<void> {
  await Deno.mkdir(`${experimentDir}/runs`, { recursive: true });
  const path = `${experimentDir}/manifest.json`;
  const text = JSON.stringify(manifest, null, 2) + "\n";
  try {
    if ((await Deno.readTextFile(path)) === text) return;
  } catch {
    // missing: write it
  }
  await writeJsonAtomic(path, manifest);
}

/** What to do with a run, given its status. */
export type RunAction = "run" | "resume" | "skip";

/** Options of a sweep. */
export interface SweepOptions {
  /** The runs to consider (the plan, possibly filtered by `--only`). */
  runs: PlannedRun[];
  /** Worker processes; 1 runs in this process. */
  jobs: number;
  retryFailed: boolean;
  /** Run ids to start afresh, or `all`. */
  force: Set<string> | "all";
  /** Arguments for worker processes after `exp <file>` (e.g. `--backend wasm`). */
  workerArgs: string[];
  /** Build the report when done (default true). */
  report?: boolean;
  /** Keep the report live while the sweep runs (default: when `report`). */
  live?: boolean;
  /** Progress display mode: force a TTY display or plain lines (default: detect). */
  tty?: boolean;
}

/** Counts of a finished sweep. */
export interface SweepSummary {
  done: number;
  diverged: number;
  failed: number;
  skipped: number;
  /** Runs another process was training (skipped; counted in `skipped` too). */
  busy: number;
  /** Runs whose status.json is damaged (not run; counted in `failed` too). */
  damaged: number;
  /** 0 when no run failed, else 1. */
  exitCode: number;
}

/** Decides what to do with a run. */
export function decide(
  status: StatusRecord | undefined,
  forced: boolean,
  retryFailed: boolean,
): RunAction {
  if (forced || !status) return "run";
  switch (status.state) {
    case "done":
    case "diverged":
      return "skip";
    case "failed":
      return retryFailed ? "resume" : "skip";
    default:
      return "resume";
  }
}

/** One-line summary of a finished run. */
export function summarize(status: StatusRecord, primary: string): string {
  if (status.state === "done") {
    const v = status.final?.[primary];
    const secs = status.trainSeconds !== undefined ? ` in ${status.trainSeconds.toFixed(1)}s` : "";
    // A metric a run could not compute is NaN, stored as null (e.g. a length a learned table cannot hold).
    const value = typeof v === "number" ? Number(v.toPrecision(4)) : "none";
    return `done${secs}${v !== undefined ? `, ${primary} ${value}` : ""}`;
  }
  return `${status.state}: ${(status.error ?? "").split("\n")[0]}`;
}

function label(run: PlannedRun): string {
  return `${run.id} ${run.variantKey} seed ${run.seed}`;
}

/** Path of the command line entry point and the project's deno.json. */
function entryPoints() {
  return {
    cli: new URL("../../cli.ts", import.meta.url).pathname,
    config: new URL("../../deno.json", import.meta.url).pathname,
  };
}

/** The permissions a worker needs (those of `deno task exp`). */
export const WORKER_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-run",
  "--allow-sys",
];

/** What became of a run this sweep gave to a process: its status, or why it was not trained. */
type Outcome = StatusRecord | "busy" | "skipped";

async function runInWorker(
  loaded: LoadedExperiment,
  run: PlannedRun,
  opts: SweepOptions,
  display: ProgressDisplay,
): Promise<Outcome> {
  const { cli, config } = entryPoints();
  const dir = runDir(loaded.experimentDir, run.id);
  const args = [
    "run",
    ...WORKER_PERMISSIONS,
    "--config",
    config,
    cli,
    "exp",
    loaded.file,
    "--worker",
    "--run-id",
    run.id,
    "--results",
    resolve(loaded.resultsRoot),
    ...(opts.retryFailed ? ["--retry-failed"] : []),
    ...opts.workerArgs,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    // Never written: the worker reads it to learn that this process has died.
    stdin: "piped",
    env: { FUSELAB_CODE_VERSION: await getCodeVersion() },
  }).spawn();
  const lifeline = child.stdin.getWriter();
  let stderr = "";
  const readErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + chunk).slice(-4000);
    }
  })();
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith(WORKER_PREFIX)) {
        try {
          display.update(run.id, JSON.parse(line.slice(WORKER_PREFIX.length)) as LoopProgress);
        } catch {
          // a garbled progress line is not worth failing for
        }
      } else if (line.trim()) display.log(`  ${run.id}: ${line}`);
    }
  }
  const { code } = await child.status;
  await readErr;
  await lifeline.close().catch(() => {});
  if (code === WORKER_EXIT.busy) return "busy";
  if (code === WORKER_EXIT.skipped) return "skipped";
  let status: StatusRecord | undefined;
  try {
    status = await readStatus(dir);
  } catch (e) {
    if (!(e instanceof DamagedFileError)) throw e;
  }
  if (status && ["done", "diverged", "failed"].includes(status.state) && status.endedAt) {
    return status;
  }
  // The worker died without recording an outcome: record it here.
  const failed: StatusRecord = {
    ...(status ?? {}),
    state: "failed",
    endedAt: new Date().toISOString(),
    error: `worker process exited with code ${code}${stderr ? `:\n${stderr.trim()}` : ""}`,
  };
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(`${dir}/status.json`, failed);
  return failed;
}

/** Builds the experiment's report and the results index, if `lib/report` exists. */
export async function buildReports(
  experimentDir: string,
  resultsRoot: string,
  log: (s: string) => void,
): Promise<void> {
  const url = new URL("../report/mod.ts", import.meta.url);
  if (!(await exists(url.pathname))) return;
  try {
    const mod = await import(url.href);
    if (typeof mod.buildReport === "function") {
      const path = await mod.buildReport(experimentDir);
      log(`report: ${path}`);
    }
    if (typeof mod.buildIndex === "function") await mod.buildIndex(resultsRoot);
  } catch (e) {
    log(
      `the report could not be built (results are intact; retry with \`deno task report\`): ${
        (e as Error).message
      }`,
    );
  }
}

async function runAll(
  loaded: LoadedExperiment,
  todo: PlannedRun[],
  opts: SweepOptions,
  display: ProgressDisplay,
  count: (run: PlannedRun, s: Outcome) => void,
): Promise<void> {
  const primary = loaded.plan.manifest.primary.metric;
  const finish = (run: PlannedRun, outcome: Outcome) => {
    count(run, outcome);
    display.finish(
      run.id,
      outcome === "busy"
        ? "being trained by another process; skipped"
        : outcome === "skipped"
        ? "finished by another process meanwhile; skipped"
        : summarize(outcome, primary),
    );
  };
  if (opts.jobs <= 1) {
    for (const run of todo) {
      display.start(run.id, label(run));
      let trained = true;
      let outcome: Outcome;
      try {
        const status = await executeRun({
          experiment: loaded.experiment.name,
          run,
          task: loaded.task,
          dir: runDir(loaded.experimentDir, run.id),
          progress: (p) => display.update(run.id, p),
          shouldRun: (s) => (trained = decide(s, false, opts.retryFailed) !== "skip"),
        });
        outcome = trained ? status : "skipped";
      } catch (e) {
        if (!(e instanceof RunBusyError)) throw e;
        outcome = "busy";
      }
      finish(run, outcome);
    }
  } else {
    const queue = [...todo];
    const worker = async () => {
      for (let run = queue.shift(); run; run = queue.shift()) {
        display.start(run.id, label(run));
        finish(run, await runInWorker(loaded, run, opts, display));
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.jobs, todo.length) }, worker));
  }
}

/**
 * Marks a run to do `pending` (after emptying it for `--force`) under its
 * lock; false when another process holds the run.
 */
async function prepareRun(dir: string, forced: boolean, fresh: boolean): Promise<boolean> {
  if (!forced && !fresh) return true;
  const lock = await RunLock.tryAcquire(dir, 0);
  if (!lock) return false;
  try {
    if (forced) await clearRun(dir);
    await writeJsonAtomic(`${dir}/status.json`, { state: "pending" } satisfies StatusRecord);
  } finally {
    lock.release();
  }
  return true;
}

/** Runs the sweep; see the module documentation. */
export async function runSweep(
  loaded: LoadedExperiment,
  opts: SweepOptions,
): Promise<SweepSummary> {
  const summary: SweepSummary = {
    done: 0,
    diverged: 0,
    failed: 0,
    skipped: 0,
    busy: 0,
    damaged: 0,
    exitCode: 0,
  };
  await writeManifest(loaded.experimentDir, loaded.plan.manifest);
  const todo: PlannedRun[] = [];
  const notes: string[] = [];
  const busy = (run: PlannedRun) => {
    summary.busy++;
    summary.skipped++;
    notes.push(`${run.id}: being trained by another process; skipped`);
  };
  for (const run of opts.runs) {
    const dir = runDir(loaded.experimentDir, run.id);
    const forced = opts.force === "all" || opts.force.has(run.id);
    if (isLive(dir)) {
      busy(run);
      continue;
    }
    let status: StatusRecord | undefined;
    try {
      status = await readStatus(dir);
    } catch (e) {
      if (!(e instanceof DamagedFileError)) throw e;
      if (!forced) {
        summary.damaged++;
        summary.failed++;
        notes.push(`${e.message} (skipped)`);
        continue;
      }
    }
    const action = decide(status, forced, opts.retryFailed);
    if (action === "skip") {
      summary.skipped++;
      if (status?.state === "failed") summary.failed++;
      continue;
    }
    if (!(await prepareRun(dir, forced, !status))) {
      busy(run);
      continue;
    }
    todo.push(run);
  }
  const count = (_run: PlannedRun, s: Outcome) => {
    if (s === "busy") {
      summary.busy++;
      summary.skipped++;
    } else if (s === "skipped") summary.skipped++;
    else if (s.state === "done") summary.done++;
    else if (s.state === "diverged") summary.diverged++;
    else summary.failed++;
  };
  const finished = summary.skipped - summary.busy;
  // live report.html and index while runs train (lib/experiment/live.ts)
  const display = sweepDisplay(todo.length, { tty: opts.tty }, liveFor(loaded, opts, finished));
  for (const note of notes) display.log(note);
  const failedBefore = summary.failed - summary.damaged;
  if (finished) {
    display.log(
      `${finished} run${finished === 1 ? "" : "s"} already finished ` +
        `(skipped${failedBefore ? `; ${failedBefore} failed: --retry-failed reruns them` : ""})`,
    );
  }
  if (todo.length) {
    // Fail fast, once, when the backend cannot load; print which one runs.
    const info = await selectBackend(todo[0].config.backend);
    display.log(describeBackend(info));
  }
  // Ctrl-C: leave the runs resumable and say so (workers get the signal too).
  const onInterrupt = () => {
    display.close();
    console.log(
      `\ninterrupted: finished runs are kept; run the same command again to resume the others`,
    );
    Deno.exit(130);
  };
  if (todo.length) Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    await runAll(loaded, todo, opts, display, count);
  } finally {
    if (todo.length) Deno.removeSignalListener("SIGINT", onInterrupt);
    await display.stopLive?.();
  }
  display.close();
  const parts = [`${summary.done} done`];
  if (summary.diverged) parts.push(`${summary.diverged} diverged`);
  if (summary.failed) parts.push(`${summary.failed} failed`);
  if (summary.skipped) parts.push(`${summary.skipped} skipped`);
  if (summary.busy) parts.push(`${summary.busy} left to the process training them`);
  console.log(`${loaded.experiment.name}: ${parts.join(", ")} (results: ${loaded.experimentDir})`);
  if (opts.report ?? true) {
    await buildReports(loaded.experimentDir, loaded.resultsRoot, (s) => console.log(s));
  }
  summary.exitCode = summary.failed ? 1 : 0;
  return summary;
}

/**
 * Reads every planned run's status (for `status` and `--dry-run`). A damaged
 * status.json reads as no status; with `damaged` given, its message is put
 * there by run id, else it is thrown.
 */
export async function planStatuses(
  loaded: LoadedExperiment,
  damaged?: Map<string, string>,
): Promise<Map<string, StatusRecord | undefined>> {
  const out = new Map<string, StatusRecord | undefined>();
  for (const run of loaded.plan.runs) {
    try {
      out.set(run.id, await readStatus(runDir(loaded.experimentDir, run.id)));
    } catch (e) {
      if (!(e instanceof DamagedFileError) || !damaged) throw e;
      damaged.set(run.id, e.message);
      out.set(run.id, undefined);
    }
  }
  return out;
}
