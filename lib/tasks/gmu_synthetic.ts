/**
 * Synthetic multimodal data after Arevalo et al. (2017, §4.1): each class c
 * has a latent centre per modality, μ_{c,m}; each modality also has a noise
 * centre ν_m. For every sample a hidden switch s picks the one modality that
 * carries the class:
 *
 *   y_s ~ N(μ_{c,s}, σ² I),   y_m ~ N(ν_m, σ² I) for m ≠ s,   x_m = tanh(W_m y_m),
 *
 * with fixed random projections W_m. A classifier must find, per sample,
 * which modality to trust; a GMU can do it with its gate, and its gate
 * activations are scored against the switch (`gate_auc`, `gate_accuracy`)
 * and saved for every validation sample (artifact `gates`).
 *
 * @module
 */
import { z } from "zod";
import { Rng } from "../util/rng.ts";
import type { ModalitySpec } from "../models/multimodal.ts";
import type { Task } from "./task.ts";
import { dataSeed } from "./seq2seq.ts";
import {
  GATE_METRICS,
  InMemorySplit,
  multimodalRun,
  SINGLE_LABEL_METRICS,
} from "./multimodal_run.ts";

/** Options of the GMU synthetic task. */
export const GmuSyntheticOptions = z.strictObject({
  /** Bimodal (2) or trimodal (3). */
  modalities: z.union([z.literal(2), z.literal(3)]).default(2),
  /** Number of classes (2). */
  classes: z.int().min(2).default(2),
  /** Latent width per modality (4). */
  latentDim: z.int().min(1).default(4),
  /** Observed width per modality (16). */
  dim: z.int().min(1).default(16),
  /** σ: spread of each sample around its centre (0.5); larger is harder. */
  noise: z.number().min(0).default(0.5),
  trainSize: z.int().min(1).default(2000),
  valSize: z.int().min(1).default(500),
  testSize: z.int().min(1).default(500),
  /** Seed of the data (default: the run's seed). */
  dataSeed: z.int().optional(),
});
/** Options of the GMU synthetic task. */
export type GmuSyntheticOptions = z.infer<typeof GmuSyntheticOptions>;

/** Names of the modalities, in order. */
export const MODALITY_NAMES = ["visual", "textual", "acoustic"];

/** The generative model: centres and projections, drawn once from the data seed. */
export interface GmuWorld {
  /** μ[c][m] (latentDim each). */
  centres: number[][][];
  /** ν[m]. */
  noiseCentres: number[][];
  /** W[m], row-major [dim, latentDim]. */
  projections: Float64Array[];
}

/** Draws the generative model. */
export function gmuWorld(o: GmuSyntheticOptions, rng: Rng): GmuWorld {
  const vec = () => Array.from({ length: o.latentDim }, () => rng.normal());
  const centres = Array.from(
    { length: o.classes },
    () => Array.from({ length: o.modalities }, vec),
  );
  const noiseCentres = Array.from({ length: o.modalities }, vec);
  const scale = 1 / Math.sqrt(o.latentDim);
  const projections = Array.from(
    { length: o.modalities },
    () => Float64Array.from({ length: o.dim * o.latentDim }, () => rng.normal() * scale),
  );
  return { centres, noiseCentres, projections };
}

/** Draws `n` samples from a world. */
export function gmuSamples(
  o: GmuSyntheticOptions,
  world: GmuWorld,
  n: number,
  rng: Rng,
): InMemorySplit {
  const M = o.modalities, D = o.dim, L = o.latentDim;
  const data = Array.from({ length: M }, () => new Float32Array(n * D));
  const labels = new Int32Array(n), informative = new Int32Array(n);
  const y = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const c = rng.int(0, o.classes), s = rng.int(0, M);
    labels[i] = c;
    informative[i] = s;
    for (let m = 0; m < M; m++) {
      const centre = m === s ? world.centres[c][m] : world.noiseCentres[m];
      for (let j = 0; j < L; j++) y[j] = centre[j] + o.noise * rng.normal();
      const W = world.projections[m];
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < L; j++) acc += W[d * L + j] * y[j];
        data[m][i * D + d] = Math.tanh(acc);
      }
    }
  }
  return new InMemorySplit(
    data.map((d) => ({ kind: "vector" as const, dim: D, data: d })),
    labels,
    o.classes,
    n,
    informative,
  );
}

/** The GMU synthetic task. */
export const gmuSyntheticTask: Task<GmuSyntheticOptions> = {
  name: "gmu_synthetic",
  description:
    "Synthetic bimodal/trimodal data where a hidden switch picks the informative modality",
  options: GmuSyntheticOptions,
  metrics: [...SINGLE_LABEL_METRICS, ...GATE_METRICS],
  primary: "accuracy",
  create(config, o, rng) {
    const seed = o.dataSeed ?? config.seed;
    const world = gmuWorld(o, new Rng(dataSeed(seed, "gmu/world")));
    const split = (name: string, size: number) =>
      gmuSamples(o, world, size, new Rng(dataSeed(seed, `gmu/${name}`)));
    const modalities: ModalitySpec[] = MODALITY_NAMES.slice(0, o.modalities).map((name) => ({
      name,
      kind: "vector",
      dim: o.dim,
    }));
    return Promise.resolve(multimodalRun({
      config,
      modalities,
      classes: o.classes,
      multiLabel: false,
      train: split("train", o.trainSize),
      val: split("val", o.valSize),
      test: split("test", o.testSize),
      seed,
      stream: "gmu",
      rng,
    }));
  },
};
