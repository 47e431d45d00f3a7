/**
 * Multimodal sequences: per-modality sequences of different kinds and
 * lengths — token ids for "text", frame vectors for "audio" and "video" —
 * whose label depends on the ORDER of two events, so that a model without
 * positional information cannot solve it, and positional encodings, heads
 * and fusions matter inside a fused model.
 *
 * Events: in text the tokens A = 1 and B = 2 among distractor tokens
 * [3, V); in frames the prototype vectors P_m and Q_m (norm 2) among
 * Gaussian distractor frames, all with noise σ. "A before B" is 1, else 0.
 *
 * - `mode: "switch"`: a hidden per-sample switch picks the modality that
 *   holds the two events (the label is their order); the others hold
 *   distractors only. Gate metrics score a GMU against the switch.
 * - `mode: "all"`: every modality holds the events in the label's order.
 * - `mode: "xor"`: every modality holds the events in a random order; the
 *   label is the parity of "A before B" over modalities (needs them all).
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import type { ModalitySpec } from "../models/multimodal.ts";
import type { Task } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";
import { learnedTableCheck } from "./copy.ts";
import {
  GATE_METRICS,
  InMemorySplit,
  type ModalityColumn,
  multimodalRun,
  SINGLE_LABEL_METRICS,
} from "./multimodal_run.ts";

const Range = z.tuple([z.int().min(2), z.int().min(2)]);

/** Options of the multimodal sequences task. */
export const MultimodalSequencesOptions = z.strictObject({
  /** 2: text + audio; 3: text + audio + video. */
  modalities: z.union([z.literal(2), z.literal(3)]).default(2),
  /** Where the label lives (see the module doc). */
  mode: z.enum(["switch", "all", "xor"]).default("switch"),
  /** Text vocabulary (padding, A, B and distractors) (16). */
  vocab: z.int().min(4).default(16),
  /** Features per audio/video frame (8). */
  features: z.int().min(1).default(8),
  /** [shortest, longest] text length (6–12). */
  textLength: Range.default([6, 12]),
  /** [shortest, longest] audio length in frames (10–16). */
  audioLength: Range.default([10, 16]),
  /** [shortest, longest] video length in frames (4–8). */
  videoLength: Range.default([4, 8]),
  /** σ of frame noise (0.3). */
  noise: z.number().min(0).default(0.3),
  trainSize: z.int().min(1).default(2000),
  valSize: z.int().min(1).default(400),
  testSize: z.int().min(1).default(400),
  /** Seed of the data (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the multimodal sequences task. */
export type MultimodalSequencesOptions = z.infer<typeof MultimodalSequencesOptions>;

/** The modalities of resolved options: text tokens, audio frames, (video frames). */
export function specs(o: MultimodalSequencesOptions): ModalitySpec[] {
  return [
    { name: "text", kind: "tokens", vocab: o.vocab },
    { name: "audio", kind: "frames", features: o.features },
    { name: "video", kind: "frames", features: o.features },
  ].slice(0, o.modalities) as ModalitySpec[];
}

function ranges(o: MultimodalSequencesOptions): [number, number][] {
  return [o.textLength, o.audioLength, o.videoLength];
}

/** Draws `n` samples. `protos[m]` holds the P and Q prototypes of frame modality m. */
export function sequenceSamples(
  o: MultimodalSequencesOptions,
  n: number,
  rng: Rng,
  protoRng: Rng,
): InMemorySplit {
  const M = o.modalities, F = o.features;
  const protos = Array.from({ length: M }, () => [0, 1].map(() => unitVector(F, protoRng, 2)));
  const cols: ModalityColumn[] = specs(o).map((s) =>
    s.kind === "tokens" ? { kind: "tokens", seqs: [] } : { kind: "frames", features: F, seqs: [] }
  );
  const labels = new Int32Array(n);
  const informative = o.mode === "switch" ? new Int32Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const label = rng.int(0, 2);
    labels[i] = label;
    const s = rng.int(0, M);
    if (informative) informative[i] = s;
    // Order per modality: null = no events; true = A before B.
    const orders: (boolean | null)[] = Array.from(
      { length: M },
      (_, m) =>
        o.mode === "switch"
          ? (m === s ? label === 1 : null)
          : o.mode === "all"
          ? label === 1
          : rng.next() < 0.5,
    );
    if (o.mode === "xor") {
      const parity = orders.reduce((p, b) => p ^ (b ? 1 : 0), 0);
      if (parity !== label) orders[s] = !orders[s];
    }
    for (let m = 0; m < M; m++) {
      const [lo, hi] = ranges(o)[m];
      const len = rng.int(lo, hi + 1);
      let posA = -1, posB = -1;
      if (orders[m] !== null) {
        const p = rng.int(0, len);
        let q = rng.int(0, len - 1);
        if (q >= p) q++;
        [posA, posB] = (p < q) === orders[m] ? [p, q] : [q, p];
      }
      const col = cols[m];
      if (col.kind === "tokens") {
        const seq = new Int32Array(len);
        for (let t = 0; t < len; t++) {
          seq[t] = t === posA ? 1 : t === posB ? 2 : rng.int(3, o.vocab);
        }
        col.seqs.push(seq);
      } else if (col.kind === "frames") {
        const seq = new Float32Array(len * F);
        for (let t = 0; t < len; t++) {
          const base = t === posA ? protos[m][0] : t === posB ? protos[m][1] : undefined;
          for (let f = 0; f < F; f++) {
            seq[t * F + f] = (base ? base[f] : 0) + o.noise * rng.normal();
          }
        }
        col.seqs.push(seq);
      }
    }
  }
  return new InMemorySplit(cols, labels, 2, n, informative);
}

function unitVector(n: number, rng: Rng, norm: number): number[] {
  const v = Array.from({ length: n }, () => rng.normal());
  const s = Math.hypot(...v) || 1;
  return v.map((x) => (x / s) * norm);
}

/** The multimodal sequences task. */
export const multimodalSequencesTask: Task<MultimodalSequencesOptions> = {
  name: "multimodal_sequences",
  description: "Text tokens and audio/video frames whose label is the order of two events",
  options: MultimodalSequencesOptions,
  metrics: [...SINGLE_LABEL_METRICS, ...GATE_METRICS],
  primary: "accuracy",
  check(config, o) {
    const errs: [string, string][] = [];
    const names = ["task.textLength", "task.audioLength", "task.videoLength"];
    ranges(o).slice(0, o.modalities).forEach(([lo, hi], m) => {
      if (lo > hi) errs.push([names[m], `shortest ${lo} is longer than longest ${hi}`]);
    });
    const longest = Math.max(...ranges(o).slice(0, o.modalities).map((r) => r[1]));
    return [...errs, ...learnedTableCheck(config, longest, "the longest modality sequence")];
  },
  create(config, o, rng) {
    const seed = o.dataSeed ?? config.seed;
    const split = (name: string, size: number) =>
      sequenceSamples(
        o,
        size,
        new Rng(dataSeed(seed, `mmseq/${name}`)),
        new Rng(dataSeed(seed, "mmseq/protos")),
      );
    return Promise.resolve(multimodalRun({
      config,
      modalities: specs(o),
      classes: 2,
      multiLabel: false,
      train: split("train", o.trainSize),
      val: split("val", o.valSize),
      test: split("test", o.testSize),
      seed,
      stream: "mmseq",
      rng,
    }));
  },
};
