/**
 * The training loop: for each batch, `valueAndGrads` of the task's loss,
 * optional clipping of the global gradient norm, one Adam step at the
 * scheduled learning rate; evaluation every `evalEvery` epochs, a checkpoint
 * every `checkpointEvery` epochs, and a final evaluation on val and test.
 *
 * The loop knows nothing of files: it emits metrics lines and checkpoint
 * requests through callbacks (see `lib/experiment/run.ts`). It can start at
 * any epoch boundary, which is how a run resumes.
 *
 * On the webgpu backend it reads its losses only when it logs (at most 32
 * steps apart, and before every evaluation, checkpoint and end), all at once,
 * and clips gradients on the device: in Deno every GPU read waits for the
 * device and then at least 10 ms. The lines it writes are the same; a
 * non-finite loss is reported at its own step, found up to 32 steps later.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../contract/config.ts";
import type { MetricsLine } from "../contract/results.ts";
import type { TaskRun } from "../contract/task_run.ts";
import type { Adam } from "./adam.ts";
import { noamRate } from "./noam.ts";
import { valueAndGrads } from "./grads.ts";

/** Where training stands: what a checkpoint stores and a resume starts from. */
export interface LoopPosition {
  /** Optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** Seconds of training so far (all attempts). */
  trainSeconds: number;
  /**
   * Set once training has ended (only the final evaluations remain): what
   * ended it, and the last logged training loss.
   */
  finished?: { stoppedBy: "epochs" | "maxSteps" | "timeLimit"; trainLoss?: number };
}

/** A progress report, sent after every step and around evaluations. */
export interface LoopProgress {
  phase: "training" | "evaluating";
  step: number;
  totalSteps: number;
  /** Epochs completed, fractional. */
  epoch: number;
  epochs: number;
  /** Mean training loss over the last logging window. */
  loss?: number;
  itemsPerS?: number;
  /** Estimated seconds left. */
  etaS?: number;
}

/** Inputs of {@link trainLoop}. */
export interface LoopOptions {
  task: TaskRun;
  config: RunConfig;
  adam: Adam;
  /** Where to start (an epoch boundary); zeros for a fresh run. */
  start: LoopPosition;
  /** Appends one metrics line (called in order). */
  emit(line: MetricsLine): Promise<void>;
  /** Saves a checkpoint at this position (called after the epoch's lines are emitted). */
  checkpoint(at: LoopPosition): Promise<void>;
  /** Progress for a display. */
  progress?(p: LoopProgress): void;
}

/** How a loop ended. */
export interface LoopResult extends LoopPosition {
  outcome: "done" | "diverged";
  /** What ended training: the epochs, `maxSteps` or `timeLimitS`. */
  stoppedBy: "epochs" | "maxSteps" | "timeLimit";
  /** Last evaluation of each split, `<split>/<metric>`, plus `train/loss`. */
  final: Record<string, number>;
  /** For a diverged run: what and where. */
  error?: string;
  /** Items per second over this attempt's training steps. */
  itemsPerS: number;
}

/** The learning rate of optimizer step `step` (1-based). */
export function learningRate(config: RunConfig, step: number): number {
  const lr = config.train.lr;
  return lr.schedule === "noam"
    ? noamRate(step, config.model.dModel, lr.factor, lr.warmup)
    : lr.value;
}

/** Total optimizer steps of a run: epochs × steps per epoch, capped by `maxSteps`. */
export function totalSteps(config: RunConfig, stepsPerEpoch: number): number {
  return Math.min(config.train.epochs * stepsPerEpoch, config.train.maxSteps ?? Infinity);
}

/**
 * ‖g‖ over every gradient, as a scalar tensor (not tf.addN: WebGPU binds
 * every input of one AddN shader, at most 7 of them).
 */
function globalNorm(grads: Record<string, tf.Tensor>, names: string[]): tf.Tensor {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.stack(names.map((n) => tf.sum(tf.square(grads[n])))))));
}

/** Replaces each gradient by itself times `scale` (a number or a scalar tensor). */
function scaleGrads(grads: Record<string, tf.Tensor>, names: string[], scale: number | tf.Tensor) {
  for (const n of names) {
    const g = grads[n];
    grads[n] = tf.mul(g, scale);
    g.dispose();
  }
}

/** Scales gradients so that their global L2 norm is at most `maxNorm`; returns the norm. */
export async function clipGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): Promise<number> {
  const names = Object.keys(grads);
  if (!names.length) return 0;
  // An asynchronous read: GPU backends in Deno cannot read synchronously.
  const normT = globalNorm(grads, names);
  const norm = (await normT.data())[0];
  normT.dispose();
  if (norm > maxNorm) scaleGrads(grads, names, maxNorm / (norm + 1e-6));
  return norm;
}

/**
 * {@link clipGlobalNorm} without reading the norm: the scale
 * maxNorm / (‖g‖ + 1e-6) where ‖g‖ > maxNorm, else 1, computed and applied on
 * the device (for loops that do not wait for the GPU every step).
 */
export function clipGlobalNormOnDevice(grads: Record<string, tf.Tensor>, maxNorm: number): void {
  const names = Object.keys(grads);
  if (!names.length) return;
  const norm = globalNorm(grads, names);
  const scale = tf.tidy(() =>
    tf.where(tf.greater(norm, maxNorm), tf.div(maxNorm, tf.add(norm, 1e-6)), tf.onesLike(norm))
  );
  norm.dispose();
  scaleGrads(grads, names, scale);
  scale.dispose();
}

const deferredEnv = Deno.env.get("FUSELAB_DEFERRED_LOSS_READS");
let deferredReads: boolean | undefined = deferredEnv === undefined
  ? undefined
  : deferredEnv !== "0";

/**
 * Whether {@link trainLoop} reads its losses only when it logs (at most
 * {@link MAX_UNREAD_LOSSES} steps apart) instead of after every step: `true`,
 * `false`, or `undefined` for the default, which defers on the webgpu backend
 * (each read there waits for the GPU and then at least 10 ms in Deno) and
 * reads every step elsewhere. `FUSELAB_DEFERRED_LOSS_READS=1` or `=0` sets it
 * from the start.
 */
export function setDeferredLossReads(on: boolean | undefined): void {
  deferredReads = on;
}

/** The most steps whose losses wait unread: a non-finite loss is found within this many steps. */
export const MAX_UNREAD_LOSSES = 32;

function defersLossReads(): boolean {
  return deferredReads ?? tf.getBackend() === "webgpu";
}

/** A recorded step whose loss has not been read yet. */
interface UnreadLoss {
  /** 1-based optimizer step, its epoch index and learning rate. */
  step: number;
  epoch: number;
  rate: number;
  value: tf.Tensor;
}

function round(x: number, digits = 6): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

/** Trains `task.model` from `start` to the end of the budget. */
export async function trainLoop(opts: LoopOptions): Promise<LoopResult> {
  const { task, config, adam } = opts;
  const t = config.train;
  const spe = task.stepsPerEpoch;
  const total = totalSteps(config, spe);
  const params = task.model.trainableParameters();
  const t0 = performance.now();
  const elapsed = () => opts.start.trainSeconds + (performance.now() - t0) / 1000;
  let step = opts.start.step;
  let epoch = opts.start.epoch;
  const final: Record<string, number> = {};
  let stoppedBy: LoopResult["stoppedBy"] = "epochs";
  let attemptItems = 0, attemptStepSeconds = 0;
  let winLoss = 0, winSteps = 0, winItems = 0, winStart = performance.now();
  let lastLoss: number | undefined;
  /** The last loss read (every step's when reads are not deferred). */
  let latestLoss: number | undefined;
  const defer = defersLossReads();
  const unread: UnreadLoss[] = [];

  const divergedAt = (loss: number, at: number, ep: number, rate: number) =>
    `training loss became ${loss} at step ${at} (epoch ${ep + 1}, lr ${round(rate, 4)})`;

  /**
   * Reads the unread losses at once (one wait for the GPU) into the logging
   * window; returns the message of the first non-finite one, if any.
   */
  const readLosses = async (): Promise<string | undefined> => {
    if (!unread.length) return undefined;
    const items = unread.splice(0);
    const all = items.length === 1 ? items[0].value : tf.stack(items.map((u) => u.value));
    const values = await all.data();
    tf.dispose([...new Set([all, ...items.map((u) => u.value)])]);
    for (const [i, u] of items.entries()) {
      if (!Number.isFinite(values[i])) {
        step = u.step - 1;
        epoch = u.epoch;
        return divergedAt(values[i], u.step, u.epoch, u.rate);
      }
      winLoss += values[i];
      winSteps++;
      latestLoss = values[i];
    }
    return undefined;
  };

  const line = (split: MetricsLine["split"], values: Record<string, number>, ep: number) =>
    opts.emit({ step, epoch: round(ep), split, time: round(elapsed(), 4), ...values });

  const evaluate = async (split: "val" | "test", ep: number) => {
    opts.progress?.({ phase: "evaluating", step, totalSteps: total, epoch: ep, epochs: t.epochs });
    task.model.eval();
    const metrics = await task.evaluate(split);
    task.model.train();
    for (const [k, v] of Object.entries(metrics)) final[`${split}/${k}`] = v;
    await line(split, metrics, ep);
  };

  const result = (outcome: LoopResult["outcome"], error?: string): LoopResult => ({
    outcome,
    stoppedBy,
    step,
    epoch,
    trainSeconds: elapsed(),
    final,
    error,
    itemsPerS: attemptStepSeconds > 0 ? attemptItems / attemptStepSeconds : 0,
  });

  task.model.train();
  if (opts.start.finished) {
    stoppedBy = opts.start.finished.stoppedBy;
    lastLoss = opts.start.finished.trainLoss;
  }
  while (!opts.start.finished && step < total && epoch < t.epochs) {
    let completed = true;
    for (const batch of task.batches(epoch)) {
      if (step >= total) {
        stoppedBy = "maxSteps";
        completed = false;
        break;
      }
      const s0 = performance.now();
      const rate = learningRate(config, step + 1);
      const { value, grads } = valueAndGrads(params, () => task.loss(batch));
      unread.push({ step: step + 1, epoch, rate, value });
      if (!defer) {
        // Read now: a non-finite loss stops training before this step's update.
        const diverged = await readLosses();
        if (diverged) {
          for (const g of Object.values(grads)) g.dispose();
          return result("diverged", diverged);
        }
      }
      if (t.gradClip > 0) {
        if (defer) clipGlobalNormOnDevice(grads, t.gradClip);
        else await clipGlobalNorm(grads, t.gradClip);
      }
      adam.apply(grads, rate);
      for (const g of Object.values(grads)) g.dispose();
      step++;
      const items = task.batchSize(batch);
      attemptItems += items;
      winItems += items;
      const logNow = step % t.logEvery === 0 || step === total;
      if (logNow || unread.length >= MAX_UNREAD_LOSSES) {
        const diverged = await readLosses();
        if (diverged) return result("diverged", diverged);
      }
      attemptStepSeconds += (performance.now() - s0) / 1000;
      if (logNow) {
        const secs = (performance.now() - winStart) / 1000;
        lastLoss = winLoss / winSteps;
        const itemsPerS = secs > 0 ? winItems / secs : 0;
        await line("train", {
          loss: round(lastLoss),
          lr: round(rate),
          itemsPerS: round(itemsPerS, 4),
        }, step / spe);
        winLoss = winSteps = winItems = 0;
        winStart = performance.now();
      }
      const perStep = attemptStepSeconds / Math.max(1, step - opts.start.step);
      opts.progress?.({
        phase: "training",
        step,
        totalSteps: total,
        epoch: step / spe,
        epochs: t.epochs,
        loss: lastLoss ?? latestLoss,
        itemsPerS: attemptStepSeconds > 0 ? attemptItems / attemptStepSeconds : undefined,
        etaS: perStep * (total - step),
      });
      if (t.timeLimitS !== undefined && elapsed() >= t.timeLimitS && step < total) {
        stoppedBy = "timeLimit";
        completed = false;
        break;
      }
    }
    // Every loss is read before an evaluation, a checkpoint or the end.
    const r0 = performance.now();
    const diverged = await readLosses();
    attemptStepSeconds += (performance.now() - r0) / 1000;
    if (diverged) return result("diverged", diverged);
    if (!completed) break;
    epoch++;
    // The last epoch is evaluated by the final evaluation below.
    if (epoch >= t.epochs || step >= total) break;
    if (epoch % t.evalEvery === 0) await evaluate("val", epoch);
    if (epoch % t.checkpointEvery === 0) {
      await opts.checkpoint({ step, epoch, trainSeconds: elapsed() });
    }
  }
  if (!opts.start.finished && step >= total && epoch < t.epochs) stoppedBy = "maxSteps";
  // Checkpoint the trained model before the final evaluations: a resume from
  // here redoes only them, writing the same lines.
  if (!opts.start.finished) {
    await opts.checkpoint({
      step,
      epoch,
      trainSeconds: elapsed(),
      finished: { stoppedBy, ...(lastLoss !== undefined ? { trainLoss: lastLoss } : {}) },
    });
  }
  const endEpoch = stoppedBy === "epochs" ? epoch : round(step / spe);
  await evaluate("val", endEpoch);
  await evaluate("test", endEpoch);
  if (lastLoss !== undefined) final["train/loss"] = round(lastLoss);
  return result("done");
}
