/**
 * What the multimodal classification tasks (gmu_synthetic,
 * multimodal_sequences, mmimdb, features) share: in-memory datasets, the
 * training batches of an epoch, evaluation (accuracy or multi-label F1, and
 * how well a GMU's gate follows the informative modality), and the `gates`
 * artifact.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";
import type { RunConfig } from "../contract/config.ts";
import type { ModalityBatch, ModalitySpec, MultimodalBatch } from "../models/multimodal.ts";
import { MultimodalClassifier } from "../models/multimodal.ts";
import { accuracy, argmaxRows } from "../metrics/classification.ts";
import { multiLabelF1 } from "../metrics/f1.ts";
import { rocAuc } from "../metrics/ranking.ts";
import { type MetricInfo, type Metrics, type TaskRun, UNIT } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";

/** A split that can hand out rows: contiguous ranges always, arbitrary rows when in memory. */
export interface MultimodalSplit {
  size: number;
  /** Rows `[start, end)`. */
  slice(start: number, end: number): MultimodalBatch;
  /** Rows at `indices` (in-memory data); streamed data leaves it out. */
  gather?(indices: number[]): MultimodalBatch;
}

/** One modality's data held in memory: a matrix of vectors or a list of sequences. */
export type ModalityColumn =
  | { kind: "vector"; dim: number; data: Float32Array }
  | { kind: "tokens"; seqs: Int32Array[] }
  | { kind: "frames"; features: number; seqs: Float32Array[] };

/** A dataset held in memory, column by column. */
export class InMemorySplit implements MultimodalSplit {
  /**
   * @param columns one per modality
   * @param labels class ids [N] or 0/1 [N, classes]
   * @param classes number of classes
   * @param informative which modality carries the class, per row (synthetic data)
   */
  constructor(
    readonly columns: ModalityColumn[],
    readonly labels: Int32Array | Float32Array,
    readonly classes: number,
    readonly size: number,
    readonly informative?: Int32Array,
  ) {}

  /** Rows `[start, end)`. */
  slice(start: number, end: number): MultimodalBatch {
    return this.gather(Array.from({ length: end - start }, (_, i) => start + i));
  }

  /** Rows at `indices`, sequences padded to the longest in the batch. */
  gather(idx: number[]): MultimodalBatch {
    const modalities: ModalityBatch[] = this.columns.map((c) => {
      if (c.kind === "vector") {
        const data = new Float32Array(idx.length * c.dim);
        idx.forEach((r, i) => data.set(c.data.subarray(r * c.dim, (r + 1) * c.dim), i * c.dim));
        return { kind: "vector", data, dim: c.dim };
      }
      if (c.kind === "tokens") {
        const len = Math.max(1, ...idx.map((r) => c.seqs[r].length));
        const data = new Int32Array(idx.length * len);
        idx.forEach((r, i) => data.set(c.seqs[r], i * len));
        return { kind: "tokens", data, len };
      }
      const f = c.features;
      const lengths = Int32Array.from(idx, (r) => c.seqs[r].length / f);
      const len = Math.max(1, ...lengths);
      const data = new Float32Array(idx.length * len * f);
      idx.forEach((r, i) => data.set(c.seqs[r], i * len * f));
      return { kind: "frames", data, len, features: f, lengths };
    });
    let labels: Int32Array | Float32Array;
    if (this.labels instanceof Int32Array) labels = Int32Array.from(idx, (r) => this.labels[r]);
    else {
      const k = this.classes;
      labels = new Float32Array(idx.length * k);
      idx.forEach((r, i) => labels.set(this.labels.subarray(r * k, (r + 1) * k), i * k));
    }
    const informative = this.informative
      ? Int32Array.from(idx, (r) => this.informative![r])
      : undefined;
    return { rows: idx.length, modalities, labels, informative };
  }
}

/**
 * The training batches of an epoch: a full shuffle when the split is in
 * memory; for streamed splits, blocks of `blockBatches` consecutive batches
 * are read in shuffled block order and shuffled inside the block (a file is
 * then read in large contiguous pieces).
 */
export function* epochBatches(
  split: MultimodalSplit,
  batchSize: number,
  rng: Rng,
  blockBatches = 8,
): Generator<MultimodalBatch> {
  if (split.gather) {
    const idx = rng.shuffle(Array.from({ length: split.size }, (_, i) => i));
    for (let i = 0; i < idx.length; i += batchSize) yield split.gather(idx.slice(i, i + batchSize));
    return;
  }
  const block = batchSize * blockBatches;
  const starts = rng.shuffle(
    Array.from({ length: Math.ceil(split.size / block) }, (_, i) => i * block),
  );
  for (const s of starts) {
    const whole = split.slice(s, Math.min(s + block, split.size));
    const order = rng.shuffle(Array.from({ length: whole.rows }, (_, i) => i));
    for (let i = 0; i < order.length; i += batchSize) {
      yield selectRows(whole, order.slice(i, i + batchSize), labelWidth(whole));
    }
  }
}

function labelWidth(b: MultimodalBatch): number {
  return b.labels instanceof Int32Array ? 1 : b.labels.length / b.rows;
}

/** Rows of a batch of vector modalities (streamed data holds vectors only). */
function selectRows(b: MultimodalBatch, idx: number[], k: number): MultimodalBatch {
  const modalities = b.modalities.map((m) => {
    if (m.kind !== "vector") throw new Error("streamed splits hold vector modalities only");
    const data = new Float32Array(idx.length * m.dim);
    idx.forEach((r, i) => data.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), i * m.dim));
    return { ...m, data };
  });
  const labels = b.labels instanceof Int32Array
    ? Int32Array.from(idx, (r) => b.labels[r])
    : (() => {
      const out = new Float32Array(idx.length * k);
      idx.forEach((r, i) => out.set(b.labels.subarray(r * k, (r + 1) * k), i * k));
      return out;
    })();
  return { rows: idx.length, modalities, labels };
}

/** Metrics of single-label multimodal tasks. */
export const SINGLE_LABEL_METRICS: MetricInfo[] = [
  {
    name: "loss",
    higherIsBetter: false,
    description: "cross-entropy of the predicted probabilities",
  },
  {
    name: "accuracy",
    higherIsBetter: true,
    description: "fraction of examples classified right",
    range: UNIT,
  },
  {
    name: "f1_macro",
    higherIsBetter: true,
    description: "macro-averaged F1 over all classes (absent classes count as 0)",
    range: UNIT,
  },
];

/** Metrics of how well a GMU's gate follows the informative modality. */
export const GATE_METRICS: MetricInfo[] = [
  {
    name: "gate_auc",
    higherIsBetter: true,
    description: "ROC AUC of each modality's share of gate activation for 'this modality is " +
      "informative', mean over modalities (GMU only; 0.5 = the gate ignores the switch)",
    range: UNIT,
  },
  {
    name: "gate_accuracy",
    higherIsBetter: true,
    description: "fraction of examples whose most-open gate is the informative modality (GMU only)",
    range: UNIT,
  },
];

/** Metrics of multi-label multimodal tasks (F1 at threshold 0.5). */
export const MULTI_LABEL_METRICS: MetricInfo[] = [
  { name: "loss", higherIsBetter: false, description: "binary cross-entropy per label" },
  {
    name: "f1_micro",
    higherIsBetter: true,
    description: "micro F1 at 0.5 (pooled over labels)",
    range: UNIT,
  },
  {
    name: "f1_macro",
    higherIsBetter: true,
    description: "macro F1 at 0.5 (mean over labels)",
    range: UNIT,
  },
  {
    name: "f1_weighted",
    higherIsBetter: true,
    description: "F1 at 0.5 weighted by label support",
    range: UNIT,
  },
  {
    name: "f1_samples",
    higherIsBetter: true,
    description: "F1 at 0.5 per example, averaged",
    range: UNIT,
  },
];

/** Gate agreement: mean one-vs-rest AUC of each modality's gate share, and argmax accuracy. */
export function gateAgreement(
  gates: Float32Array,
  n: number,
  informative: Int32Array,
): { gate_auc: number; gate_accuracy: number } {
  const rows = informative.length;
  const share = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let m = 0; m < n; m++) s += gates[r * n + m];
    for (let m = 0; m < n; m++) share[r * n + m] = s > 0 ? gates[r * n + m] / s : 1 / n;
  }
  const aucs: number[] = [];
  for (let m = 0; m < n; m++) {
    const a = rocAuc(
      Float32Array.from({ length: rows }, (_, r) => share[r * n + m]),
      Int32Array.from(informative, (v) => (v === m ? 1 : 0)),
    );
    if (!Number.isNaN(a)) aucs.push(a);
  }
  const pick = argmaxRows(share, n);
  return {
    gate_auc: aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : NaN,
    gate_accuracy: accuracy(pick, informative),
  };
}

/** What {@link multimodalRun} needs. */
export interface MultimodalRunSpec {
  config: RunConfig;
  modalities: ModalitySpec[];
  classes: number;
  multiLabel: boolean;
  train: MultimodalSplit;
  val: MultimodalSplit;
  test?: MultimodalSplit;
  /** Seed of the epoch order. */
  seed: number;
  /** Stream name for the epoch order. */
  stream: string;
  rng: Rng;
  /** Hidden widths of each vector modality's MLP (default none). */
  mlpHidden?: number[];
  /** Also free these (e.g. open files) in `dispose`. */
  onDispose?: () => void;
  /**
   * A grouping of the validation rows (e.g. their genre) saved with the gates,
   * so that a report can show the mean gate per view per group.
   */
  groups?: GateGroups;
}

/** A grouping of validation rows: its name, the group names, and each row's group index. */
export interface GateGroups {
  name: string;
  names: string[];
  val: Int32Array;
}

const EVAL_CHUNK = 256;

/**
 * Evaluates a classifier on a split. Also returns gates and informative rows
 * when available. Reads asynchronously (any backend, WebGPU included).
 */
export async function evaluateMultimodal(
  model: MultimodalClassifier,
  split: MultimodalSplit,
  multiLabel: boolean,
): Promise<{ metrics: Metrics; gates?: Float32Array; informative?: Int32Array }> {
  const k = model.classes, n = model.modalities.length;
  const probs = new Float32Array(split.size * k);
  const labels = multiLabel ? new Float32Array(split.size * k) : new Int32Array(split.size);
  const gates = model.gated ? new Float32Array(split.size * n) : undefined;
  let informative: Int32Array | undefined = new Int32Array(split.size);
  for (let s = 0; s < split.size; s += EVAL_CHUNK) {
    const b = split.slice(s, Math.min(split.size, s + EVAL_CHUNK));
    const p = await model.predictAsync(b);
    probs.set(p.probs, s * k);
    labels.set(b.labels, multiLabel ? s * k : s);
    if (gates && p.gates) gates.set(p.gates, s * n);
    if (b.informative) informative?.set(b.informative, s);
    else informative = undefined;
  }
  const eps = 1e-7;
  const metrics: Metrics = {};
  let loss = 0;
  if (multiLabel) {
    for (let i = 0; i < probs.length; i++) {
      const p = Math.min(1 - eps, Math.max(eps, probs[i]));
      loss -= labels[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
    }
    metrics.loss = loss / probs.length;
    const f = multiLabelF1(probs, labels, k);
    metrics.f1_micro = f.micro;
    metrics.f1_macro = f.macro;
    metrics.f1_weighted = f.weighted;
    metrics.f1_samples = f.samples;
  } else {
    for (let r = 0; r < split.size; r++) loss -= Math.log(Math.max(eps, probs[r * k + labels[r]]));
    metrics.loss = loss / split.size;
    const pred = argmaxRows(probs, k);
    metrics.accuracy = accuracy(pred, labels);
    const oneHot = (ids: ArrayLike<number>) => {
      const o = new Float32Array(ids.length * k);
      for (let r = 0; r < ids.length; r++) o[r * k + ids[r]] = 1;
      return o;
    };
    metrics.f1_macro = multiLabelF1(oneHot(pred), oneHot(labels), k).macro;
  }
  if (gates && informative) {
    const g = gateAgreement(gates, n, informative);
    if (!Number.isNaN(g.gate_auc)) metrics.gate_auc = g.gate_auc;
    metrics.gate_accuracy = g.gate_accuracy;
  }
  return { metrics, gates, informative };
}

/** A {@link TaskRun} for a multimodal classifier over the given splits. */
export function multimodalRun(spec: MultimodalRunSpec): TaskRun<MultimodalBatch> {
  const { config, train, val, multiLabel } = spec;
  const model = new MultimodalClassifier(spec.modalities, spec.classes, config.model, spec.rng, {
    multiLabel,
    mlpHidden: spec.mlpHidden,
  });
  const bs = config.train.batchSize;
  let lastGates: { values: number[][]; informative?: number[] } | undefined;
  const n = spec.modalities.length;
  const run: TaskRun<MultimodalBatch> = {
    model,
    stepsPerEpoch: Math.ceil(train.size / bs),
    batches: (epoch) =>
      epochBatches(train, bs, new Rng(dataSeed(spec.seed, `${spec.stream}/epoch/${epoch}`))),
    loss: (b) => model.loss(b),
    batchSize: (b) => b.rows,
    async evaluate(split) {
      const data = split === "val" ? val : spec.test;
      // No test split declared: nothing to report (compare on val/<metric> instead).
      if (!data) return {};
      const r = await evaluateMultimodal(model, data, multiLabel);
      if (split === "val" && r.gates) {
        lastGates = {
          values: Array.from(
            { length: data.size },
            (_, i) => Array.from(r.gates!.subarray(i * n, (i + 1) * n)),
          ),
          informative: r.informative ? Array.from(r.informative) : undefined,
        };
      }
      return r.metrics;
    },
    async insights() {
      const out: Record<string, unknown> = {};
      if (model.gated) {
        if (!lastGates) {
          const r = await evaluateMultimodal(model, val, multiLabel);
          lastGates = {
            values: Array.from(
              { length: val.size },
              (_, i) => Array.from(r.gates!.subarray(i * n, (i + 1) * n)),
            ),
            informative: r.informative ? Array.from(r.informative) : undefined,
          };
        }
        out.gates = {
          modalities: spec.modalities.map((m) => m.name),
          ...lastGates,
          ...(spec.groups
            ? {
              groups: {
                name: spec.groups.name,
                names: spec.groups.names,
                of: Array.from(spec.groups.val),
              },
            }
            : {}),
        };
      }
      const pos = model.positionalStage();
      const seqLen = spec.modalities.some((m) => m.kind !== "vector")
        ? Math.min(config.model.maxLen, 64)
        : 0;
      const matrix = pos && seqLen ? await pos.readPositionalMatrix(seqLen) : null;
      if (matrix) out.positional = { kind: config.model.positional, matrix };
      return out;
    },
    dispose: spec.onDispose,
  };
  return run;
}
