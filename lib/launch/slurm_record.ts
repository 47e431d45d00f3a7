/**
 * `slurm.json` in an experiment's results folder: every submission of the
 * experiment to Slurm (job ids, which run each array task runs, where the logs
 * are). Written only by `launch` at submit time, atomically; array tasks never
 * touch it. Its presence makes `deno task exp status <file>` ask Slurm too.
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.ts";

/** One `--launcher slurm` submission: a job array and the report job after it. */
export interface SlurmSubmission {
  /** ISO time of submission. */
  submittedAt: string;
  /** Job id of the array (task i is `<arrayJobId>_<i>`). */
  arrayJobId: string;
  /** Job id of the report job (`--dependency=afterany:<arrayJobId>`), once submitted. */
  reportJobId?: string;
  /** The `--array` value, e.g. `0-3,5%2`. */
  array: string;
  /** Array task id (the run's plan index) → run id. */
  runs: Record<string, string>;
  /** Batch scripts, relative to the results folder. */
  arrayScript: string;
  reportScript: string;
  /** Logs, relative to the results folder: each run's own log and Slurm's per task. */
  logs: { run: string; slurm: string; report: string };
  /** The full `sbatch` argument lists used. */
  sbatch: { array: string[]; report: string[] };
}

/** `slurm.json`. */
export interface SlurmRecord {
  version: 1;
  experiment: string;
  /** The experiment file (absolute) the array tasks run. */
  file: string;
  /** Oldest first. */
  submissions: SlurmSubmission[];
}

/** File name of the record inside the results folder. */
export const SLURM_RECORD = "slurm.json";

/** Reads `<resultsDir>/slurm.json`, or `null` when there is none. */
export async function readSlurmRecord(resultsDir: string): Promise<SlurmRecord | null> {
  const path = join(resultsDir, SLURM_RECORD);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let rec: SlurmRecord;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path}: not valid JSON (${(e as Error).message}); ` +
        `delete it to forget earlier Slurm submissions`,
    );
  }
  if (rec?.version !== 1 || !Array.isArray(rec.submissions)) {
    throw new Error(
      `${path}: not a fuselab Slurm record (needs version 1 and submissions[]); ` +
        `delete it to forget earlier Slurm submissions`,
    );
  }
  return rec;
}

/** Writes `<resultsDir>/slurm.json` atomically (temporary file, then rename). */
export async function writeSlurmRecord(resultsDir: string, rec: SlurmRecord): Promise<void> {
  await writeJsonAtomic(join(resultsDir, SLURM_RECORD), rec);
}

/**
 * The latest submission that included run `runId`, and the array task that
 * runs it there (tasks are bound to run ids: the plan's order may have
 * changed since).
 */
export function latestTaskOf(
  rec: SlurmRecord | null,
  runId: string,
): { submission: SlurmSubmission; taskId: number } | undefined {
  if (!rec) return undefined;
  for (let s = rec.submissions.length - 1; s >= 0; s--) {
    for (const [index, id] of Object.entries(rec.submissions[s].runs)) {
      if (id === runId) return { submission: rec.submissions[s], taskId: Number(index) };
    }
  }
  return undefined;
}

/** The latest submission that included plan index `index`, if any. */
export function latestSubmissionOf(
  rec: SlurmRecord | null,
  index: number,
): SlurmSubmission | undefined {
  if (!rec) return undefined;
  for (let s = rec.submissions.length - 1; s >= 0; s--) {
    if (String(index) in rec.submissions[s].runs) return rec.submissions[s];
  }
  return undefined;
}
