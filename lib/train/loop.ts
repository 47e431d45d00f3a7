/**
 * The training loop: for each batch, `valueAndGrads` of the task's loss,
 * optional clipping of the global gradient norm, one Adam step at the
 * scheduled learning rate; a NaN or infinite loss, or one over
 * `train.divergeFactor` times the run's first, ends the run as diverged;
 * evaluation every `evalEvery` epochs, a checkpoint
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
import { DIVERGE_FACTOR, type RunConfig } from "../contract/config.ts";
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
  /** The run's first training loss, which `train.divergeFactor` is measured against. */
  initialLoss?: number;
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
  return await new LoopAttempt(opts).run();
}

/**
 * One attempt of {@link trainLoop}: where it stands, the logging window and
 * the losses not read yet, shared by the step, the epoch and the ending.
 */
class LoopAttempt {
  readonly t: RunConfig["train"];
  /** Steps per epoch and in all. */
  readonly spe: number;
  readonly total: number;
  readonly params: [string, tf.Variable][];
  readonly t0 = performance.now();
  readonly defer = defersLossReads();
  step: number;
  epoch: number;
  final: Record<string, number> = {};
  stoppedBy: LoopResult["stoppedBy"] = "epochs";
  attemptItems = 0;
  attemptStepSeconds = 0;
  winLoss = 0;
  winSteps = 0;
  winItems = 0;
  winStart = performance.now();
  lastLoss: number | undefined;
  /** The last loss read (every step's when reads are not deferred). */
  latestLoss: number | undefined;
  unread: UnreadLoss[] = [];
  /** A finite loss over this many times the run's first loss diverges (`train.divergeFactor`). */
  readonly factor: number;
  /** The run's first training loss (kept in checkpoints). */
  initialLoss: number | undefined;

  constructor(readonly opts: LoopOptions) {
    this.t = opts.config.train;
    this.spe = opts.task.stepsPerEpoch;
    this.total = totalSteps(opts.config, this.spe);
    this.params = opts.task.model.trainableParameters();
    this.step = opts.start.step;
    this.epoch = opts.start.epoch;
    this.factor = this.t.divergeFactor ?? DIVERGE_FACTOR;
    this.initialLoss = opts.start.initialLoss;
  }

  /** Why `loss` ends training: not finite, or far above the first loss; else undefined. */
  divergence(loss: number, u: UnreadLoss): string | undefined {
    const at = `at step ${u.step} (epoch ${u.epoch + 1}, lr ${round(u.rate, 4)})`;
    if (!Number.isFinite(loss)) return `training loss became ${loss} ${at}`;
    if (this.initialLoss === undefined) this.initialLoss = loss;
    else if (this.initialLoss > 0 && loss > this.factor * this.initialLoss) {
      return `training loss became ${round(loss)} ${at}: over ${this.factor}× the first loss ${
        round(this.initialLoss)
      } (train.divergeFactor)`;
    }
    return undefined;
  }

  elapsed(): number {
    return this.opts.start.trainSeconds + (performance.now() - this.t0) / 1000;
  }

  /**
   * Reads the unread losses at once (one wait for the GPU) into the logging
   * window; returns the message of the first non-finite one, if any.
   */
  async readLosses(): Promise<string | undefined> {
    if (!this.unread.length) return undefined;
    const items = this.unread.splice(0);
    const all = items.length === 1 ? items[0].value : tf.stack(items.map((u) => u.value));
    const values = await all.data();
    tf.dispose([...new Set([all, ...items.map((u) => u.value)])]);
    for (const [i, u] of items.entries()) {
      const diverged = this.divergence(values[i], u);
      if (diverged) {
        this.step = u.step - 1;
        this.epoch = u.epoch;
        return diverged;
      }
      this.winLoss += values[i];
      this.winSteps++;
      this.latestLoss = values[i];
    }
    return undefined;
  }

  line(split: MetricsLine["split"], values: Record<string, number>, ep: number): Promise<void> {
    const time = round(this.elapsed(), 4);
    return this.opts.emit({ step: this.step, epoch: round(ep), split, time, ...values });
  }

  async evaluate(split: "val" | "test", ep: number): Promise<void> {
    const { task, progress } = this.opts;
    progress?.({
      phase: "evaluating",
      step: this.step,
      totalSteps: this.total,
      epoch: ep,
      epochs: this.t.epochs,
    });
    task.model.eval();
    const metrics = await task.evaluate(split);
    task.model.train();
    for (const [k, v] of Object.entries(metrics)) this.final[`${split}/${k}`] = v;
    await this.line(split, metrics, ep);
  }

  result(outcome: LoopResult["outcome"], error?: string): LoopResult {
    const { attemptItems: items, attemptStepSeconds: secs } = this;
    return {
      outcome,
      stoppedBy: this.stoppedBy,
      step: this.step,
      epoch: this.epoch,
      trainSeconds: this.elapsed(),
      final: this.final,
      error,
      itemsPerS: secs > 0 ? items / secs : 0,
    };
  }

  /**
   * One optimizer step on `batch`, its train line when due, and progress.
   * Returns the result of a diverged run, "stop" when the budget (steps or
   * time) ends the epoch early, or nothing.
   */
  async batchStep(batch: unknown): Promise<LoopResult | "stop" | undefined> {
    const { opts, t } = this;
    if (this.step >= this.total) {
      this.stoppedBy = "maxSteps";
      return "stop";
    }
    const s0 = performance.now();
    const rate = learningRate(opts.config, this.step + 1);
    const { value, grads } = valueAndGrads(this.params, () => opts.task.loss(batch));
    this.unread.push({ step: this.step + 1, epoch: this.epoch, rate, value });
    if (!this.defer) {
      // Read now: a non-finite loss stops training before this step's update.
      const diverged = await this.readLosses();
      if (diverged) {
        for (const g of Object.values(grads)) g.dispose();
        return this.result("diverged", diverged);
      }
    }
    if (t.gradClip > 0) {
      if (this.defer) clipGlobalNormOnDevice(grads, t.gradClip);
      else await clipGlobalNorm(grads, t.gradClip);
    }
    opts.adam.apply(grads, rate);
    for (const g of Object.values(grads)) g.dispose();
    this.step++;
    const items = opts.task.batchSize(batch);
    this.attemptItems += items;
    this.winItems += items;
    const logNow = this.step % t.logEvery === 0 || this.step === this.total;
    if (logNow || this.unread.length >= MAX_UNREAD_LOSSES) {
      const diverged = await this.readLosses();
      if (diverged) return this.result("diverged", diverged);
    }
    this.attemptStepSeconds += (performance.now() - s0) / 1000;
    if (logNow) await this.trainLine(rate);
    this.reportProgress();
    if (t.timeLimitS !== undefined && this.elapsed() >= t.timeLimitS && this.step < this.total) {
      this.stoppedBy = "timeLimit";
      return "stop";
    }
    return undefined;
  }

  /** The train line of the logging window (mean loss, rate, throughput); opens the next window. */
  async trainLine(rate: number): Promise<void> {
    const secs = (performance.now() - this.winStart) / 1000;
    this.lastLoss = this.winLoss / this.winSteps;
    const itemsPerS = secs > 0 ? this.winItems / secs : 0;
    await this.line("train", {
      loss: round(this.lastLoss),
      lr: round(rate),
      itemsPerS: round(itemsPerS, 4),
    }, this.step / this.spe);
    this.winLoss = this.winSteps = this.winItems = 0;
    this.winStart = performance.now();
  }

  reportProgress(): void {
    const { step, total, attemptItems, attemptStepSeconds } = this;
    const perStep = attemptStepSeconds / Math.max(1, step - this.opts.start.step);
    this.opts.progress?.({
      phase: "training",
      step,
      totalSteps: total,
      epoch: step / this.spe,
      epochs: this.t.epochs,
      loss: this.lastLoss ?? this.latestLoss,
      itemsPerS: attemptStepSeconds > 0 ? attemptItems / attemptStepSeconds : undefined,
      etaS: perStep * (total - step),
    });
  }

  /**
   * One epoch of batches, its losses read, then (unless it was the last) its
   * evaluation and checkpoint when due. Returns the result of a diverged run,
   * "end" when training is over, or "next".
   */
  async epochStep(): Promise<LoopResult | "end" | "next"> {
    const { opts, t } = this;
    let completed = true;
    for (const batch of opts.task.batches(this.epoch)) {
      const r = await this.batchStep(batch);
      if (r === "stop") {
        completed = false;
        break;
      }
      if (r) return r;
    }
    // Every loss is read before an evaluation, a checkpoint or the end.
    const r0 = performance.now();
    const diverged = await this.readLosses();
    this.attemptStepSeconds += (performance.now() - r0) / 1000;
    if (diverged) return this.result("diverged", diverged);
    if (!completed) return "end";
    this.epoch++;
    // The last epoch is evaluated by the final evaluation below.
    if (this.epoch >= t.epochs || this.step >= this.total) return "end";
    if (this.epoch % t.evalEvery === 0) await this.evaluate("val", this.epoch);
    if (this.epoch % t.checkpointEvery === 0) {
      await opts.checkpoint({
        step: this.step,
        epoch: this.epoch,
        trainSeconds: this.elapsed(),
        initialLoss: this.initialLoss,
      });
    }
    return "next";
  }

  async run(): Promise<LoopResult> {
    const { opts, t } = this;
    const finished = opts.start.finished;
    opts.task.model.train();
    if (finished) {
      this.stoppedBy = finished.stoppedBy;
      this.lastLoss = finished.trainLoss;
    }
    while (!finished && this.step < this.total && this.epoch < t.epochs) {
      const r = await this.epochStep();
      if (r === "end") break;
      if (r !== "next") return r;
    }
    if (!finished && this.step >= this.total && this.epoch < t.epochs) this.stoppedBy = "maxSteps";
    // Checkpoint the trained model before the final evaluations: a resume from
    // here redoes only them, writing the same lines.
    if (!finished) {
      const trainLoss = this.lastLoss;
      await opts.checkpoint({
        step: this.step,
        epoch: this.epoch,
        trainSeconds: this.elapsed(),
        initialLoss: this.initialLoss,
        finished: {
          stoppedBy: this.stoppedBy,
          ...(trainLoss !== undefined ? { trainLoss } : {}),
        },
      });
    }
    const endEpoch = this.stoppedBy === "epochs" ? this.epoch : round(this.step / this.spe);
    await this.evaluate("val", endEpoch);
    await this.evaluate("test", endEpoch);
    if (this.lastLoss !== undefined) this.final["train/loss"] = round(this.lastLoss);
    return this.result("done");
  }
}
