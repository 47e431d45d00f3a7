/**
 * What Slurm says about a job array, task by task, from `squeue -t all`
 * (states, one line per task) and `scontrol show job` (exit codes, restarts).
 * `sacct` is not used: it needs slurmdbd, which many clusters (and test
 * clusters) lack. Finished jobs stay visible for the cluster's `MinJobAge`
 * (300 s by default); a cancelled *pending* array task leaves no trace at all.
 *
 * @module
 */

/** Output of one command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm client command; replaceable in tests. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<CommandResult>;

/** Runs `cmd args` with the process environment (SLURM_CONF included). */
export const runCommand: CommandRunner = async (cmd, args) => {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${cmd}: command not found` };
    }
    throw e;
  }
};

/** One array task as Slurm knows it. */
export interface TaskInfo {
  arrayJobId: string;
  taskId: number;
  /** `<array>_<task>`, as `scontrol`, `scancel` and `squeue` take it. */
  jobId: string;
  /** Slurm job state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... */
  state: string;
  /** Why pending, or why it ended (`NonZeroExitCode`, `JobArrayTaskLimit`, ...). */
  reason: string;
  /** Exit code of the batch script, when it ended. */
  exitCode?: number;
  /** Signal that ended it, when one did. */
  signal?: number;
  /** Times it was requeued (`SLURM_RESTART_COUNT` of the next attempt). */
  restarts?: number;
}

/** Job states in which a task will still run or is running. */
export const LIVE_STATES = new Set([
  "PENDING",
  "CONFIGURING",
  "RUNNING",
  "COMPLETING",
  "REQUEUED",
  "REQUEUE_FED",
  "REQUEUE_HOLD",
  "RESIZING",
  "SUSPENDED",
  "STOPPED",
  "SIGNALING",
  "STAGE_OUT",
  "RESV_DEL_HOLD",
  "SPECIAL_EXIT",
]);

/**
 * Expands an array task id field: `3`, `0-4`, `1-7:2`, `0,2,5-6`, with an
 * optional `%K` throttle and `[...]` brackets.
 */
export function expandTaskIds(field: string): number[] {
  const body = field.replace(/^\[|\]$/g, "").replace(/%\d+$/, "");
  const out: number[] = [];
  for (const part of body.split(",")) {
    const m = part.match(/^(\d+)(?:-(\d+)(?::(\d+))?)?$/);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** The `squeue` line format used by {@link parseSqueue}. */
export const SQUEUE_FORMAT = "%F|%K|%T|%r";

/** Parses `squeue -h -r -t all -o "%F|%K|%T|%r"` into tasks. */
export function parseSqueue(text: string): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const line of text.split("\n")) {
    const [arrayJobId, taskField, state, reason] = line.trim().split("|");
    if (!arrayJobId || !taskField || taskField === "N/A" || !state) continue;
    for (const taskId of expandTaskIds(taskField)) {
      out.push({
        arrayJobId,
        taskId,
        jobId: `${arrayJobId}_${taskId}`,
        state,
        reason: reason ?? "",
      });
    }
  }
  return out;
}

/** Parses `scontrol show job -o` (one job per line) into `Key=Value` records. */
export function parseScontrol(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes("JobId=")) continue;
    const rec: Record<string, string> = {};
    // A value runs until the next " Key=" (values such as Command may hold spaces).
    const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=(.*?)(?=\s+[A-Za-z][A-Za-z0-9_/:]*=|\s*$)/g;
    for (const m of line.matchAll(re)) rec[m[1]] = m[2];
    out.push(rec);
  }
  return out;
}

/**
 * Tasks of one array job, or `null` when Slurm no longer knows the job
 * (purged after `MinJobAge`, or never existed on this cluster).
 * Throws when the Slurm commands themselves cannot run.
 */
export async function queryArray(
  arrayJobId: string,
  run: CommandRunner = runCommand,
): Promise<Map<number, TaskInfo> | null> {
  const sq = await run("squeue", ["-h", "-r", "-t", "all", "-j", arrayJobId, "-o", SQUEUE_FORMAT]);
  if (sq.code === 127) throw new Error("squeue not found on PATH: run this where Slurm works");
  if (sq.code !== 0) {
    if (/invalid job id/i.test(sq.stderr)) return null;
    throw new Error(`squeue failed (exit ${sq.code}): ${sq.stderr.trim()}`);
  }
  const tasks = new Map<number, TaskInfo>();
  for (const t of parseSqueue(sq.stdout)) if (t.arrayJobId === arrayJobId) tasks.set(t.taskId, t);
  const sc = await run("scontrol", ["show", "job", "-o", arrayJobId]);
  if (sc.code === 0) {
    for (const rec of parseScontrol(sc.stdout)) {
      if (rec.ArrayJobId !== arrayJobId || rec.ArrayTaskId === undefined) continue;
      const ids = expandTaskIds(rec.ArrayTaskId);
      for (const taskId of ids) {
        const t: TaskInfo = tasks.get(taskId) ?? {
          arrayJobId,
          taskId,
          jobId: `${arrayJobId}_${taskId}`,
          state: rec.JobState ?? "UNKNOWN",
          reason: rec.Reason ?? "",
        };
        const [code, signal] = (rec.ExitCode ?? "").split(":").map(Number);
        if (ids.length === 1 && !LIVE_STATES.has(t.state)) {
          if (Number.isFinite(code)) t.exitCode = code;
          if (signal) t.signal = signal;
        }
        if (rec.Restarts !== undefined) t.restarts = Number(rec.Restarts);
        tasks.set(taskId, t);
      }
    }
  }
  return tasks.size === 0 ? null : tasks;
}

/** State of a plain (non-array) job, e.g. the report job, or `null` when unknown. */
export async function queryJob(
  jobId: string,
  run: CommandRunner = runCommand,
): Promise<{ state: string; reason: string; exitCode?: number } | null> {
  const sc = await run("scontrol", ["show", "job", "-o", jobId]);
  if (sc.code !== 0) return null;
  const rec = parseScontrol(sc.stdout).find((r) => r.JobId === jobId);
  if (!rec) return null;
  const code = Number((rec.ExitCode ?? "").split(":")[0]);
  return {
    state: rec.JobState ?? "UNKNOWN",
    reason: rec.Reason ?? "",
    ...(LIVE_STATES.has(rec.JobState ?? "") || !Number.isFinite(code) ? {} : { exitCode: code }),
  };
}
