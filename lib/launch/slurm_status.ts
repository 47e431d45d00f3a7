/**
 * Where each run of a Slurm sweep stands: the results folder (each run's
 * `status.json`) merged with what Slurm says about the task that runs it.
 *
 * | state       | meaning                                                         |
 * |-------------|-----------------------------------------------------------------|
 * | done        | the run finished (`status.json` says done)                      |
 * | diverged    | the run finished with a diverged loss (a result, not an error)  |
 * | pending     | its array task waits in the queue (or after a requeue)          |
 * | running     | its array task runs                                             |
 * | failed      | its task ended without finishing the run: exit code, log tail   |
 * | cancelled   | its task was cancelled (scancel) before the run finished        |
 * | interrupted | the run started, but Slurm no longer knows its task             |
 * | never ran   | no task ran it (a cancelled *pending* array task leaves no trace) |
 *
 * @module
 */
import { join } from "node:path";
import type { ManifestRun, RunState, StatusRecord } from "../contract/results.ts";
import { LIVE_STATES, type TaskInfo } from "./slurm_query.ts";
import type { SlurmSubmission } from "./slurm_record.ts";

/** A run's state in a Slurm sweep. */
export type SweepRunState =
  | "done"
  | "diverged"
  | "pending"
  | "running"
  | "failed"
  | "cancelled"
  | "interrupted"
  | "never ran";

/** One run's merged status. */
export interface SweepRunStatus {
  index: number;
  id: string;
  variantKey: string;
  seed: number;
  state: SweepRunState;
  /** `status.json`'s state, when the run folder has one. */
  results?: RunState;
  /** Slurm's view of the latest array task that ran it. */
  task?: TaskInfo;
  /** One line: job id, Slurm state and reason, exit code, restarts, error. */
  detail: string;
  /** Last lines of the run's logs (failed, cancelled and interrupted runs). */
  logTail?: string[];
}

/** Slurm states that mean the task is executing now. */
const RUNNING = new Set(["RUNNING", "COMPLETING", "CONFIGURING", "SIGNALING", "STAGE_OUT"]);

/**
 * Merges a run's results state with its task's Slurm state.
 * `task`: the task, `null` when Slurm knows the array but not this task
 * (a cancelled pending task), `undefined` when there is no Slurm answer
 * (never submitted, or the array was purged from Slurm's memory).
 */
export function mergeState(
  results: StatusRecord | undefined,
  task: TaskInfo | null | undefined,
): { state: SweepRunState; detail: string } {
  const r = results?.state;
  const slurm = task ? describeTask(task) : "";
  if (r === "done" || r === "diverged") {
    return { state: r, detail: join2(slurm, r === "diverged" ? results?.error : undefined) };
  }
  if (task && LIVE_STATES.has(task.state)) {
    return { state: RUNNING.has(task.state) ? "running" : "pending", detail: slurm };
  }
  if (task) {
    if (task.state === "CANCELLED") {
      return { state: "cancelled", detail: join2(slurm, results?.error) };
    }
    if (task.state === "COMPLETED") {
      return {
        state: "failed",
        detail: join2(slurm, results?.error ?? "the task ended but the run is not done"),
      };
    }
    return { state: "failed", detail: join2(slurm, results?.error) };
  }
  if (r === "failed") return { state: "failed", detail: results?.error ?? "" };
  if (r === "running") {
    return {
      state: "interrupted",
      detail: task === null
        ? "Slurm has no record of its task"
        : "started, but Slurm no longer knows its task",
    };
  }
  return {
    state: "never ran",
    detail: task === null
      ? "its array task left no trace (cancelled while pending?)"
      : "not submitted to Slurm",
  };
}

function describeTask(t: TaskInfo): string {
  const parts = [`job ${t.jobId} ${t.state}`];
  if (t.reason && t.reason !== "None") parts.push(`(${t.reason})`);
  if (t.exitCode !== undefined && !LIVE_STATES.has(t.state)) parts.push(`exit code ${t.exitCode}`);
  if (t.signal) parts.push(`signal ${t.signal}`);
  if (t.restarts) parts.push(`restarts ${t.restarts}`);
  return parts.join(" ");
}

function join2(a: string, b: string | undefined): string {
  return [a, b].filter((s) => s).join("; ");
}

/** Reads `runs/<id>/status.json`, or undefined when absent or unreadable. */
export async function readRunStatus(
  resultsDir: string,
  id: string,
): Promise<StatusRecord | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(resultsDir, "runs", id, "status.json")));
  } catch {
    return undefined;
  }
}

/** The last `n` non-empty lines of a text file, or [] when it does not exist. */
export async function tailLines(path: string, n: number): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(path);
    return text.split("\n").filter((l) => l.trim() !== "").slice(-n);
  } catch {
    return [];
  }
}

/** The log tail shown for a run: its own log, then what Slurm wrote about its task. */
export async function runLogTail(
  resultsDir: string,
  run: ManifestRun,
  sub: SlurmSubmission | undefined,
  n = 10,
): Promise<string[]> {
  const own = await tailLines(join(resultsDir, "runs", run.id, "slurm.log"), n);
  const slurm = sub
    ? await tailLines(
      join(resultsDir, "slurm", "logs", `${sub.arrayJobId}_${run.index}.out`),
      3,
    )
    : [];
  return [...own, ...slurm];
}

/** Counts of each state, in table order: `4 done, 1 failed`. */
export function summarizeSweep(rows: SweepRunStatus[]): string {
  const order: SweepRunState[] = [
    "done",
    "diverged",
    "running",
    "pending",
    "failed",
    "cancelled",
    "interrupted",
    "never ran",
  ];
  return order
    .map((s) => [s, rows.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

/** A table of runs (index, run id, variant, seed, state, detail) with log tails. */
export function formatStatusTable(rows: SweepRunStatus[]): string {
  const head = ["index", "run", "variant", "seed", "state", "slurm"];
  const cells = rows.map((r) => [
    String(r.index),
    r.id,
    r.variantKey || "-",
    String(r.seed),
    r.state,
    r.detail,
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(width[c]))).join("  ").trimEnd();
  const out = [line(head)];
  rows.forEach((r, i) => {
    out.push(line(cells[i]));
    for (const l of r.logTail ?? []) out.push(`      | ${l}`);
  });
  return out.join("\n");
}
