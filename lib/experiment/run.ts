/**
 * Running one planned run into its folder `runs/<id>/`: config.json,
 * env.json, metrics.jsonl (streamed), status.json, checkpoint.safetensors and
 * artifacts. A run that finds a checkpoint resumes from it: metrics.jsonl is
 * cut back to the checkpoint's line count, so no line is duplicated or lost.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { basename, join } from "node:path";
import { selectBackend } from "../engine/backend.ts";
import { Rng } from "../util/rng.ts";
import { Module } from "../nn/module.ts";
import type { Task, TaskRun } from "../tasks/task.ts";
import { Adam } from "../train/adam.ts";
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { type LoopPosition, type LoopProgress, totalSteps, trainLoop } from "../train/loop.ts";
import {
  appendLines,
  DamagedFileError,
  readJson,
  sweepTempFiles,
  truncateLines,
  writeJsonAtomic,
} from "../util/atomic.ts";
import { envRecord } from "./env.ts";
import { isLocked, LOCK_FILE, RunLock } from "./lock.ts";
import type { PlannedRun } from "./plan.ts";
import type { MetricsLine, RunRecord, StatusRecord } from "../contract/results.ts";

/** Files of a run folder. */
export const RUN_FILES = {
  config: "config.json",
  env: "env.json",
  metrics: "metrics.jsonl",
  status: "status.json",
  checkpoint: "checkpoint.safetensors",
  artifacts: "artifacts",
  lock: LOCK_FILE,
} as const;

/** The folder of run `id` in an experiment folder. */
export function runDir(experimentDir: string, id: string): string {
  return join(experimentDir, "runs", id);
}

/**
 * Reads a run's status.json, if any; a damaged one is a `DamagedFileError`
 * that says how to repair it (`--force <id>`).
 */
export function readStatus(dir: string): Promise<StatusRecord | undefined> {
  const fix = `\`--force ${basename(dir)}\` starts this run afresh`;
  return readJson<StatusRecord>(join(dir, RUN_FILES.status), fix);
}

/**
 * Whether a process is training the run in `dir` now: it holds the run's
 * lock (lock.ts). A `running` status without a live holder is an
 * interrupted run.
 */
export function isLive(dir: string): boolean {
  return isLocked(dir);
}

/**
 * Empties a run's folder for `--force` (the caller holds the run's lock,
 * whose file stays).
 */
export async function clearRun(dir: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries) {
    if (e.name !== LOCK_FILE) await Deno.remove(join(dir, e.name), { recursive: true });
  }
}

/** Another process is training this run (it holds the run's lock). */
export class RunBusyError extends Error {
  /** @param dir the run's folder */
  constructor(readonly dir: string) {
    super(`${dir}: being trained by another process`);
    this.name = "RunBusyError";
  }
}

/** Inputs of {@link executeRun}. */
export interface ExecuteOptions {
  experiment: string;
  run: PlannedRun;
  task: Task;
  /** The run's folder. */
  dir: string;
  /** Progress for a display. */
  progress?(p: LoopProgress): void;
  /**
   * Asked once the run's lock is held, with the run's status then: whether to
   * train it (another process may have finished it meanwhile). Default: yes.
   * When it says no, the status is returned as it is and nothing is written.
   */
  shouldRun?(status: StatusRecord | undefined): boolean;
}

/**
 * Random generators of a task instance, by name, for checkpoints: the
 * generator given to `task.create` (`seed`), plus any public property holding
 * an `Rng` on the task run or on a module of its model (`model.<path>.<prop>`).
 * Generators kept in private fields cannot be saved; a resume then replays
 * them from the seed.
 */
export function collectRngs(rng: Rng, task: TaskRun): Record<string, Rng> {
  const out: Record<string, Rng> = { seed: rng };
  const visitModule = (m: Module, prefix: string) => {
    for (const [k, v] of Object.entries(m)) if (v instanceof Rng) out[`${prefix}${k}`] = v;
    for (const [name, child] of m.children()) visitModule(child, `${prefix}${name}.`);
  };
  for (const [k, v] of Object.entries(task)) if (v instanceof Rng) out[`task.${k}`] = v;
  if (task.model instanceof Module) visitModule(task.model, "model.");
  return out;
}

function errorText(e: unknown): string {
  // Expected faults are one line; anything else keeps its stack for the bug report.
  if (e instanceof DamagedFileError) return e.message;
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * Trains one run in `dir`, resuming from its checkpoint when there is one,
 * and returns its final status (also written to status.json). Failures are
 * caught and recorded as `failed`; a NaN or infinite loss, or one far above
 * its start (`train.divergeFactor`), as `diverged`.
 *
 * The run's lock is held throughout, so no other process writes its files;
 * when another process holds it, {@link RunBusyError} is thrown and nothing
 * is written. Temporary files a crash left in the folder are removed first.
 */
export async function executeRun(opts: ExecuteOptions): Promise<StatusRecord> {
  const lock = await RunLock.tryAcquire(opts.dir);
  if (!lock) throw new RunBusyError(opts.dir);
  try {
    let previous: StatusRecord | undefined;
    try {
      previous = await readStatus(opts.dir);
    } catch {
      // A damaged status.json (the run was chosen with --force or it is new): start afresh.
      previous = undefined;
    }
    if (opts.shouldRun && !opts.shouldRun(previous)) return previous ?? { state: "pending" };
    await sweepTempFiles(opts.dir);
    return await trainOwned(opts, previous);
  } finally {
    lock.release();
  }
}

async function trainOwned(
  opts: ExecuteOptions,
  previous: StatusRecord | undefined,
): Promise<StatusRecord> {
  const { run, dir, task } = opts;
  const config = run.config;
  await Deno.mkdir(dir, { recursive: true });
  const paths = {
    config: join(dir, RUN_FILES.config),
    env: join(dir, RUN_FILES.env),
    metrics: join(dir, RUN_FILES.metrics),
    status: join(dir, RUN_FILES.status),
    checkpoint: join(dir, RUN_FILES.checkpoint),
    artifacts: join(dir, RUN_FILES.artifacts),
  };
  const record: RunRecord = {
    id: run.id,
    experiment: opts.experiment,
    variant: run.variant,
    variantKey: run.variantKey,
    seed: run.seed,
    config: config as unknown as Record<string, unknown>,
  };
  await writeJsonAtomic(paths.config, record);
  const status: StatusRecord = {
    state: "running",
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    attempts: (previous?.attempts ?? 0) + 1,
    pid: Deno.pid,
    host: Deno.hostname(),
  };
  await writeJsonAtomic(paths.status, status);

  let taskRun: TaskRun | undefined;
  let adam: Adam | undefined;
  try {
    const backend = await selectBackend(config.backend);
    await writeJsonAtomic(paths.env, await envRecord(backend));
    const { name: _name, ...rawOptions } = config.task;
    const options = task.options.parse(rawOptions);
    const rng = new Rng(config.seed);
    taskRun = await task.create(config, options, rng);
    const model = taskRun.model;
    const t = config.train;
    // tidy frees the temporaries Adam's constructor makes for its moments (variables survive).
    let optimizer: Adam | undefined;
    tf.tidy(() => {
      optimizer = new Adam(model.trainableParameters(), {
        beta1: t.beta1,
        beta2: t.beta2,
        epsilon: t.epsilon,
        weightDecay: t.weightDecay,
      });
    });
    adam = optimizer!;
    const rngs = collectRngs(rng, taskRun);
    let start: LoopPosition = { step: 0, epoch: 0, trainSeconds: 0 };
    const ckpt = await loadCheckpoint(paths.checkpoint).catch((e) => {
      throw new DamagedFileError(
        paths.checkpoint,
        `cannot be read to resume (${(e as Error).message.split("\n")[0]})`,
        `\`--force ${run.id}\` starts this run afresh`,
      );
    });
    if (ckpt) {
      restoreCheckpoint(ckpt, model, adam);
      for (const [name, state] of Object.entries(ckpt.meta.rng)) {
        if (rngs[name]) rngs[name].state = state;
      }
      await truncateLines(paths.metrics, ckpt.meta.metricsLines);
      start = {
        step: ckpt.meta.step,
        epoch: ckpt.meta.epoch,
        trainSeconds: ckpt.meta.trainSeconds,
        ...(ckpt.meta.finished ? { finished: ckpt.meta.finished } : {}),
        ...(ckpt.meta.initialLoss !== undefined ? { initialLoss: ckpt.meta.initialLoss } : {}),
      };
    } else {
      await truncateLines(paths.metrics, 0);
    }
    let lines = ckpt?.meta.metricsLines ?? 0;
    const total = totalSteps(config, taskRun.stepsPerEpoch);
    const parameters = model.parameterCount();
    Object.assign(status, { totalSteps: total, parameters, step: start.step, epoch: start.epoch });
    await writeJsonAtomic(paths.status, status);

    const current = taskRun;
    const result = await trainLoop({
      task: current,
      config,
      adam,
      start,
      emit: async (line: MetricsLine) => {
        await appendLines(paths.metrics, [JSON.stringify(line)]);
        lines++;
      },
      checkpoint: async (at) => {
        const rngStates = Object.fromEntries(
          Object.entries(rngs).map(([n, r]) => [n, r.state]),
        );
        await saveCheckpoint(paths.checkpoint, model, adam, {
          ...at,
          metricsLines: lines,
          rng: rngStates,
        });
        Object.assign(status, { step: at.step, epoch: at.epoch, trainSeconds: at.trainSeconds });
        await writeJsonAtomic(paths.status, status);
      },
      progress: opts.progress,
    });
    Object.assign(status, {
      step: result.step,
      epoch: result.epoch,
      trainSeconds: Math.round(result.trainSeconds * 1000) / 1000,
      final: result.final,
      throughput: Math.round(result.itemsPerS * 100) / 100,
    });
    if (result.outcome === "diverged") {
      status.state = "diverged";
      status.error = result.error;
    } else {
      if (current.insights) {
        model.eval();
        const insights = await current.insights();
        if (Object.keys(insights).length) await Deno.mkdir(paths.artifacts, { recursive: true });
        for (const [name, value] of Object.entries(insights)) {
          await writeJsonAtomic(join(paths.artifacts, `${name}.json`), value);
        }
      }
      status.state = "done";
      status.stoppedBy = result.stoppedBy;
    }
  } catch (e) {
    status.state = "failed";
    status.error = errorText(e);
  } finally {
    try {
      taskRun?.dispose?.();
      taskRun?.model.dispose();
      adam?.dispose();
    } catch {
      // Freeing memory must not hide the run's outcome.
    }
  }
  status.endedAt = new Date().toISOString();
  delete status.pid;
  delete status.host;
  await writeJsonAtomic(paths.status, status);
  return status;
}
