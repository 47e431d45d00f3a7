/**
 * The resolved configuration of one run: what a task, a model and a training
 * loop need. An experiment file declares a base config plus axes; planning
 * resolves one `RunConfig` per variant and seed (see `schema.ts`).
 *
 * @module
 */
import { z } from "zod";
import { BACKENDS } from "../engine/backend.ts";
import { POSITIONAL_KINDS } from "../nn/positional.ts";
import { FUSION_KINDS } from "../fusion/classifier.ts";

/** Model hyper-parameters (Transformer parts and fusion). */
export const ModelConfig = z.strictObject({
  /** Number of encoder (and decoder) layers, N. */
  layers: z.int().min(1).default(2),
  /** Width d_model. */
  dModel: z.int().min(1).default(32),
  /** Inner width of the position-wise feed-forward, d_ff. */
  dFF: z.int().min(1).default(64),
  /** Number of attention heads, h (must divide d_model). */
  heads: z.int().min(1).default(4),
  dropout: z.number().min(0).max(1).default(0.1),
  positional: z.enum(POSITIONAL_KINDS).default("sinusoid"),
  /** Longest position a learned table holds; positions past it are an error. */
  maxLen: z.int().min(1).default(256),
  /** "pre": x + sublayer(norm(x)) as the Annotated Transformer; "post": norm(x + sublayer(x)) as the paper. */
  norm: z.enum(["pre", "post"]).default("pre"),
  /** Fusion for multimodal tasks. */
  fusion: z.enum(FUSION_KINDS).default("gmu"),
  /** Width of the fused representation (and of each modality's projection). */
  fusionDim: z.int().min(1).default(32),
});
/** Model hyper-parameters. */
export type ModelConfig = z.infer<typeof ModelConfig>;

/** Learning-rate schedules. */
export const LrConfig = z.discriminatedUnion("schedule", [
  z.strictObject({
    schedule: z.literal("noam"),
    factor: z.number().positive().default(1),
    warmup: z.int().min(1).default(400),
  }),
  z.strictObject({ schedule: z.literal("constant"), value: z.number().positive() }),
]);
/** A learning-rate schedule. */
export type LrConfig = z.infer<typeof LrConfig>;

/** Training loop settings and budget. */
export const TrainConfig = z.strictObject({
  /** Epochs to train (an epoch is the task's `stepsPerEpoch` batches). */
  epochs: z.int().min(1).default(10),
  /** Optional cap on total optimizer steps (overrides epochs when reached first). */
  maxSteps: z.int().min(1).optional(),
  batchSize: z.int().min(1).default(32),
  lr: LrConfig.default({ schedule: "noam", factor: 1, warmup: 400 }),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.98),
  epsilon: z.number().positive().default(1e-9),
  weightDecay: z.number().min(0).default(0),
  /** Label smoothing ε for sequence outputs (0 disables). */
  labelSmoothing: z.number().min(0).max(1).default(0),
  /** Clip the global gradient norm to this value (0 disables). */
  gradClip: z.number().min(0).default(0),
  /** Log a training metrics line every this many steps. */
  logEvery: z.int().min(1).default(10),
  /** Evaluate every this many epochs. */
  evalEvery: z.int().min(1).default(1),
  /** Write a checkpoint every this many epochs. */
  checkpointEvery: z.int().min(1).default(1),
  /** Stop (state done, budget noted) after this many seconds of training. */
  timeLimitS: z.number().positive().optional(),
  /**
   * A training loss above this many times the run's first loss marks the run
   * diverged, as a NaN or infinite one does (default {@link DIVERGE_FACTOR};
   * optional without a default, so that run ids do not change).
   */
  divergeFactor: z.number().gt(1).optional(),
});

/** The default of `train.divergeFactor`. */
export const DIVERGE_FACTOR = 100;
/** Training loop settings. */
export type TrainConfig = z.infer<typeof TrainConfig>;

/**
 * Task selection: `name` plus the task's own options, which the task's
 * `options` schema validates.
 */
export const TaskConfig = z.looseObject({ name: z.string() });
/** Task selection. */
export type TaskConfig = z.infer<typeof TaskConfig>;

/** Everything one run needs, fully resolved (defaults filled in). */
export const RunConfig = z.strictObject({
  task: TaskConfig,
  model: ModelConfig.default(ModelConfig.parse({})),
  train: TrainConfig.default(TrainConfig.parse({})),
  backend: z.enum(BACKENDS).default("auto"),
  seed: z.int().default(0),
});
/** Everything one run needs. */
export type RunConfig = z.infer<typeof RunConfig>;
