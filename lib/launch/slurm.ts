/**
 * Sweeps on a Slurm cluster: `deno task exp <file> --launcher slurm` submits
 * the runs not yet done as one job array (task i runs the i-th planned run with
 * `deno task exp <file> --run-index i`), then a report job that waits for the
 * array (`--dependency=afterany`), prints the job ids and returns at once.
 * `deno task exp status <file>` merges the results folder with Slurm's view.
 *
 * fuselab schedules nothing itself: Slurm runs the tasks, and each task finds
 * its own run's state in the results folder (a done run exits at once, an
 * interrupted one resumes from its checkpoint), so pre-emption, `--requeue`
 * and re-submission are all safe.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LaunchContext } from "../experiment/launch.ts";
import type { ManifestRun } from "../contract/results.ts";
import { parseSlurmArgs, SLURM_HELP, type SlurmOptions } from "./slurm_args.ts";
import {
  arrayScript,
  arraySpec,
  parseJobId,
  reportScript,
  runLogPath,
  type ScriptParams,
  shellQuote,
  SLURM_LOG_PATTERN,
} from "./sbatch.ts";
import {
  type CommandRunner,
  LIVE_STATES,
  queryArray,
  queryJob,
  runCommand,
  type TaskInfo,
} from "./slurm_query.ts";
import { exists, writeFileAtomic } from "../util/atomic.ts";
import {
  latestTaskOf,
  readSlurmRecord,
  SLURM_RECORD,
  type SlurmRecord,
  type SlurmSubmission,
  writeSlurmRecord,
} from "./slurm_record.ts";
import {
  formatStatusTable,
  mergeState,
  readRunStatus,
  runLogTail,
  summarizeSweep,
  type SweepRunStatus,
} from "./slurm_status.ts";

/**
 * What `launch` and `slurmStatus` read of the CLI's {@link LaunchContext}
 * (lib/experiment/launch.ts): the file, the plan, the results folder, and
 * optionally the selected runs (`--only`) and the arguments array tasks repeat.
 */
export type SlurmContext =
  & Pick<LaunchContext, "file" | "manifest" | "resultsDir">
  & Partial<Pick<LaunchContext, "runs" | "forwardArgs" | "resultsRoot">>;

/** Replaceable effects, for tests. */
export interface LaunchDeps {
  /** Runs sbatch, squeue, scontrol. */
  run?: CommandRunner;
  /** Prints a line. */
  print?: (line: string) => void;
}

/** The project root: the folder holding deno.json and cli.ts. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Terminal runs are never submitted again. */
const FINISHED = new Set(["done", "diverged"]);

/**
 * Slurm's view of the arrays that last ran each of `runs`, by array job id
 * (null: Slurm no longer knows the array).
 */
async function queryAll(
  rec: SlurmRecord | null,
  runs: ManifestRun[],
  run: CommandRunner,
): Promise<Map<string, Map<number, TaskInfo> | null>> {
  const out = new Map<string, Map<number, TaskInfo> | null>();
  for (const r of runs) {
    const id = latestTaskOf(rec, r.id)?.submission.arrayJobId;
    if (id && !out.has(id)) out.set(id, await queryArray(id, run));
  }
  return out;
}

/**
 * Each run's merged state. Slurm is asked about the latest submission that
 * included the run; if Slurm cannot be asked at all, results alone decide and
 * `warning` says why.
 */
export async function collectSlurmStatus(
  ctx: Pick<SlurmContext, "manifest" | "resultsDir" | "runs">,
  run: CommandRunner = runCommand,
): Promise<{ rows: SweepRunStatus[]; record: SlurmRecord | null; warning?: string }> {
  const record = await readSlurmRecord(ctx.resultsDir);
  const runs: ManifestRun[] = ctx.runs ?? ctx.manifest.runs;
  let arrays = new Map<string, Map<number, TaskInfo> | null>();
  let warning: string | undefined;
  try {
    arrays = await queryAll(record, runs, run);
  } catch (e) {
    warning = `could not ask Slurm (${(e as Error).message}); showing the results folder alone`;
  }
  const rows: SweepRunStatus[] = [];
  for (const r of runs) {
    const results = await readRunStatus(ctx.resultsDir, r.id);
    const at = latestTaskOf(record, r.id);
    const sub = at?.submission;
    let task: TaskInfo | null | undefined;
    if (at && arrays.has(at.submission.arrayJobId)) {
      const tasks = arrays.get(at.submission.arrayJobId);
      task = tasks ? (tasks.get(at.taskId) ?? null) : undefined;
    }
    const { state, detail } = mergeState(results, task);
    const row: SweepRunStatus = {
      index: r.index,
      id: r.id,
      variantKey: r.variantKey,
      seed: r.seed,
      state,
      detail,
      ...(results ? { results: results.state } : {}),
      ...(task ? { task } : {}),
    };
    if (state === "failed" || state === "cancelled" || state === "interrupted") {
      row.logTail = await runLogTail(ctx.resultsDir, { ...r, index: at?.taskId ?? r.index }, sub);
    }
    rows.push(row);
  }
  return { rows, record, ...(warning ? { warning } : {}) };
}

/** The short cell `deno task exp status` shows in its `slurm` column. */
export function statusCell(row: SweepRunStatus): string {
  const t = row.task;
  switch (row.state) {
    case "pending":
      return `${t?.restarts ? `requeued ${t.restarts}×, ` : ""}pending ${t?.jobId ?? ""}` +
        `${t?.reason && t.reason !== "None" ? ` (${t.reason})` : ""}`;
    case "running":
      return `running ${t?.jobId ?? ""}${t?.restarts ? ` (requeued ${t.restarts}×)` : ""}`;
    case "failed":
      return `failed ${t?.jobId ?? ""}${t?.exitCode !== undefined ? ` exit ${t.exitCode}` : ""}` +
        (t && t.state !== "FAILED" ? ` (${t.state})` : "");
    default:
      return t && row.state !== "never ran" ? `${row.state} ${t.jobId}` : row.state;
  }
}

/**
 * `deno task exp status <file>` when `slurm.json` exists: prints the latest
 * submission, the report job's state, and every failed, cancelled or
 * interrupted run with its Slurm state, exit code and log tail; returns the
 * short Slurm state per run id for the status table's `slurm` column.
 */
export async function slurmStatus(
  ctx: SlurmContext,
  deps: LaunchDeps = {},
): Promise<Record<string, string> | undefined> {
  const print = deps.print ?? console.log;
  const run = deps.run ?? runCommand;
  const { rows, record, warning } = await collectSlurmStatus(ctx, run);
  if (warning) print(`warning: ${warning}`);
  const last = record?.submissions.at(-1);
  if (last) {
    print(
      `Slurm: latest submission ${last.submittedAt}, array job ${last.arrayJobId}` +
        ` (--array=${last.array})` + (last.reportJobId ? `, report job ${last.reportJobId}` : ""),
    );
    if (last.reportJobId && !warning) {
      const rep = await queryJob(last.reportJobId, run);
      const html = await exists(join(ctx.resultsDir, "report.html"));
      print(
        `Slurm: report job ${last.reportJobId} ${rep ? rep.state : "unknown to Slurm now"}` +
          (rep?.reason && rep.reason !== "None" ? ` (${rep.reason})` : "") +
          (rep?.exitCode ? `, exit code ${rep.exitCode}` : "") +
          `; report.html ${html ? "exists" : "not built yet"}`,
      );
    }
  }
  print(`Slurm: ${summarizeSweep(rows)} (${rows.length} runs)`);
  const troubled = rows.filter((r) => r.logTail !== undefined);
  if (troubled.length) print(formatStatusTable(troubled));
  const redo = rows.filter((r) =>
    !FINISHED.has(r.state) && r.state !== "pending" &&
    r.state !== "running"
  );
  if (redo.length > 0) {
    print(
      `${redo.length} run(s) to submit again: ` +
        ["deno", "task", "exp", ctx.file, ...repeatArgs(ctx)].map(shellQuote).join(" ") +
        ` --launcher slurm [-- options]   (submits only those)`,
    );
  }
  print("");
  return Object.fromEntries(rows.map((r) => [r.id, statusCell(r)]));
}

/**
 * `deno task exp <file> --launcher slurm [options]`: submits the runs that are
 * neither finished nor queued/running in Slurm as one job array plus a
 * dependent report job, records them in `slurm.json`, prints how to follow
 * them, and returns without waiting. Returns the exit code.
 */
export async function launch(
  ctx: SlurmContext,
  args: string[],
  deps: LaunchDeps = {},
): Promise<number> {
  const print = deps.print ?? console.log;
  const run = deps.run ?? runCommand;
  let options: SlurmOptions;
  try {
    options = parseSlurmArgs(args, [ctx.file]);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${SLURM_HELP}`);
    return 2;
  }
  const backend = backendOf(ctx);
  const gpuAsked = options.gpus !== undefined || options.sbatchArgs.some(isGpuRequest);
  if ((backend === "webgpu" || backend === "tfjs-node-gpu") && !gpuAsked) {
    print(
      `warning: --backend ${backend} without a GPU request: the tasks may land on nodes ` +
        `without a GPU (ask for one with --gpus 1, or --sbatch-arg=--gres=gpu:1)`,
    );
  }
  const resultsDir = resolve(ctx.resultsDir);
  const file = resolve(ctx.file);
  if (!(await exists(file))) {
    console.error(`${ctx.file}: experiment file not found (resolved to ${file})`);
    return 2;
  }
  await Deno.mkdir(join(resultsDir, "slurm", "logs"), { recursive: true });
  return await underSubmitLock(resultsDir, async () => {
    const manifestPath = join(resultsDir, "manifest.json");
    if (!(await exists(manifestPath))) {
      await writeAtomic(manifestPath, JSON.stringify(ctx.manifest, null, 2) + "\n");
    }

    let record: SlurmRecord | null;
    let arrays: Map<string, Map<number, TaskInfo> | null>;
    try {
      record = await readSlurmRecord(resultsDir);
      const ask = queryAll(record, ctx.runs ?? ctx.manifest.runs, run);
      // A dry run may be made where Slurm is not reachable: then nothing counts as queued.
      arrays = options.dryRun ? await ask.catch(() => new Map()) : await ask;
    } catch (e) {
      console.error(`--launcher slurm: ${(e as Error).message}`);
      return 1;
    }

    const selected: ManifestRun[] = ctx.runs ?? ctx.manifest.runs;
    const { todo, finished, queued } = await runsToSubmit(resultsDir, selected, record, arrays);
    const total = selected.length;
    if (todo.length === 0) {
      print(
        `experiment "${ctx.manifest.experiment}": nothing to submit ` +
          `(${finished} of ${total} runs done, ${queued} queued or running in Slurm).`,
      );
      const statusCmd = ["deno", "task", "exp", "status", ctx.file, ...repeatArgs(ctx)];
      print(`follow: ${statusCmd.map(shellQuote).join(" ")}`);
      return 0;
    }

    const n = (record?.submissions.length ?? 0) + 1;
    const params: ScriptParams = {
      experiment: ctx.manifest.experiment,
      project: PROJECT_ROOT,
      deno: Deno.execPath(),
      file,
      resultsDir,
      options,
      runArgs: ["--retry-failed", ...(ctx.forwardArgs ?? [])],
    };
    const arrayPath = join(resultsDir, "slurm", `array-${n}.sh`);
    const reportPath = join(resultsDir, "slurm", `report-${n}.sh`);
    await writeAtomic(arrayPath, arrayScript(params, todo));
    await writeAtomic(reportPath, reportScript(params));
    const spec = arraySpec(todo.map((r) => r.index), options.maxParallel);
    const arrayArgs = ["--parsable", ...options.sbatchArgs, arrayPath];
    const reportArgs = (id: string) => [
      "--parsable",
      `--dependency=afterany:${id}`,
      ...reportSbatchArgs(options.sbatchArgs),
      reportPath,
    ];
    if (options.dryRun) {
      print(`dry run: would submit ${todo.length} of ${total} runs (--array=${spec}):`);
      print(`  sbatch ${arrayArgs.map(shellQuote).join(" ")}`);
      if (!options.noReport) {
        print(`  sbatch ${reportArgs("<array job id>").map(shellQuote).join(" ")}`);
      }
      return 0;
    }

    const sb = await run("sbatch", arrayArgs);
    if (sb.code !== 0) {
      console.error(
        `sbatch refused the job array (exit ${sb.code}): ${
          sb.stderr.trim() || sb.stdout.trim()
        }\n` +
          `script: ${arrayPath}` +
          (sb.code === 127 ? "\nsbatch is not on PATH: run this on a Slurm login node" : ""),
      );
      return 1;
    }
    const arrayJobId = parseJobId(sb.stdout);
    const submission: SlurmSubmission = {
      submittedAt: new Date().toISOString(),
      arrayJobId,
      array: spec,
      runs: Object.fromEntries(todo.map((r) => [String(r.index), r.id])),
      arrayScript: relative(resultsDir, arrayPath),
      reportScript: relative(resultsDir, reportPath),
      logs: {
        run: runLogPath("<run id>"),
        slurm: SLURM_LOG_PATTERN,
        report: "slurm/logs/report_%j.out",
      },
      sbatch: { array: arrayArgs, report: reportArgs(arrayJobId) },
    };
    record = record ?? { version: 1, experiment: ctx.manifest.experiment, file, submissions: [] };
    record.file = file;
    record.submissions.push(submission);
    await writeSlurmRecord(resultsDir, record);

    const rb = options.noReport
      ? { code: 0, stdout: "", stderr: "" }
      : await run("sbatch", reportArgs(arrayJobId));
    let code = 0;
    if (options.noReport) {
      submission.sbatch.report = [];
    } else if (rb.code === 0) {
      submission.reportJobId = parseJobId(rb.stdout);
      await writeSlurmRecord(resultsDir, record);
    } else {
      console.error(
        `sbatch refused the report job (exit ${rb.code}): ${rb.stderr.trim()}\n` +
          `the runs are submitted; build the report when they end: deno task report ` +
          shellQuote(ctx.file),
      );
      code = 1;
    }

    print(
      `submitted ${todo.length} of ${total} runs of "${ctx.manifest.experiment}" as Slurm ` +
        `job array ${arrayJobId} (--array=${spec})` +
        (finished + queued > 0 ? `; skipped ${finished} done and ${queued} queued or running` : ""),
    );
    printFollowUp(ctx, resultsDir, submission, print);
    return code;
  });
}

/**
 * The selected runs neither finished nor queued/running in Slurm (those to
 * submit), and how many were each of the other two.
 */
async function runsToSubmit(
  resultsDir: string,
  selected: ManifestRun[],
  record: SlurmRecord | null,
  arrays: Map<string, Map<number, TaskInfo> | null>,
): Promise<{ todo: ManifestRun[]; finished: number; queued: number }> {
  const todo: ManifestRun[] = [];
  let finished = 0, queued = 0;
  for (const r of selected) {
    const st = await readRunStatus(resultsDir, r.id);
    if (st && FINISHED.has(st.state)) {
      finished++;
      continue;
    }
    const at = latestTaskOf(record, r.id);
    const task = at ? arrays.get(at.submission.arrayJobId)?.get(at.taskId) : undefined;
    if (task && LIVE_STATES.has(task.state)) {
      queued++;
      continue;
    }
    todo.push(r);
  }
  return { todo, finished, queued };
}

/** After a submission: the report job, and how to follow, read logs, cancel, find the record. */
function printFollowUp(
  ctx: SlurmContext,
  resultsDir: string,
  submission: SlurmSubmission,
  print: (line: string) => void,
): void {
  const shown = isAbsolute(ctx.resultsDir) ? resultsDir : relative(Deno.cwd(), resultsDir);
  const jobs = [submission.arrayJobId, submission.reportJobId].filter((j) => j).join(",");
  if (submission.reportJobId) {
    print(`report job ${submission.reportJobId} rebuilds the report when the array has ended`);
  }
  const statusCmd = ["deno", "task", "exp", "status", ctx.file, ...repeatArgs(ctx)];
  print(`follow:  ${statusCmd.map(shellQuote).join(" ")}    squeue -r -j ${jobs}`);
  print(`logs:    ${join(shown, "runs", "<run id>", "slurm.log")}`);
  print(`cancel:  scancel ${jobs.replace(",", " ")}`);
  print(`record:  ${join(shown, SLURM_RECORD)}`);
}

/** The backend the runs ask for: `--backend`, else the experiment file's. */
function backendOf(ctx: SlurmContext): string | undefined {
  const args = ctx.forwardArgs ?? [];
  const i = args.indexOf("--backend");
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith("--backend="));
  if (eq) return eq.slice("--backend=".length);
  return (ctx as { experiment?: { backend?: string } }).experiment?.backend;
}

/** The experiment options a follow-up command needs: the forwarded ones, or `--results`. */
function repeatArgs(ctx: SlurmContext): string[] {
  if (ctx.forwardArgs?.length) return ctx.forwardArgs;
  return ctx.resultsRoot && ctx.resultsRoot !== "results" ? ["--results", ctx.resultsRoot] : [];
}

/**
 * Holds `<resultsDir>/slurm/submit.lock` (an OS lock that dies with its
 * process) while `fn` runs: two submissions of one experiment at once run one
 * after the other, and the second sees what the first submitted.
 */
async function underSubmitLock<T>(resultsDir: string, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(join(resultsDir, "slurm", "submit.lock"), {
    read: true,
    write: true,
    create: true,
  });
  try {
    if (!(await file.tryLock(true))) {
      console.log("another submission of this experiment is under way; waiting for it");
      await file.lock(true);
    }
    return await fn();
  } finally {
    file.close();
  }
}

/** An sbatch argument that asks for GPUs (`--gpus`, `--gres=gpu`, `-G`...). */
export function isGpuRequest(arg: string): boolean {
  return /^(--gpus|--gpus-per-[a-z]+|--gpu-bind|--gpu-freq|--mem-per-gpu|--cpus-per-gpu|-G)(=|$)/
    .test(arg) || /^--gres=(.*,)?gpu/.test(arg);
}

/** The sbatch arguments for the report job: the array's, without GPU requests. */
export function reportSbatchArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isGpuRequest(a)) continue;
    // `--gres gpu:1` as two words
    if ((a === "--gres" || a === "-G" || a === "--gpus") && i + 1 < args.length) {
      if (a !== "--gres" || /gpu/.test(args[i + 1])) {
        i++;
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

function writeAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text);
}
