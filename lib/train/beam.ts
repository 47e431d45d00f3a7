/**
 * Beam search: keep the `beamSize` most probable partial outputs, ranked by
 * their summed log-probability Σ_t log p(y_t | y_<t, x) (optionally divided
 * by length^α), extending each by every token at each step. A beam that emits
 * the end symbol is finished and carried along unchanged.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { EncoderDecoder } from "../nn/encoder_decoder.ts";
import { subsequentMask } from "../nn/masks.ts";

/** Options of {@link beamSearch}. */
export interface BeamOptions {
  /** Beams kept per example (4). */
  beamSize?: number;
  /** Token that ends a sequence (none by default: every output has maxLen tokens). */
  endSymbol?: number;
  /** Token written after a finished sequence in the result (0). */
  pad?: number;
  /** Length penalty α: rank by score / length^α (0: plain sum). */
  lengthPenalty?: number;
}

/** Output of {@link beamSearch}. */
export interface BeamResult {
  /** Best sequence per example [B, maxLen] (int32), padded after the end symbol. */
  ids: tf.Tensor2D;
  /** Its summed log-probability, per example. */
  scores: number[];
}

interface Beam {
  tokens: number[];
  score: number;
  done: boolean;
}

/** Next-token log-probabilities [k, V] for k prefixes of equal length, as a tensor. */
function nextLogProbs(
  model: EncoderDecoder,
  memory: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  prefixes: number[][],
): tf.Tensor2D {
  return tf.tidy(() => {
    const k = prefixes.length, t = prefixes[0].length;
    const ys = tf.tensor2d(prefixes.flat(), [k, t], "int32");
    const mem = tf.tile(memory, [k, 1, 1]);
    const mask = srcMask ? tf.tile(srcMask, [k, 1, 1]) : undefined;
    const out = model.decode(mem, mask, ys, subsequentMask(t));
    const last = out.slice([0, t - 1, 0], [k, 1, -1]).reshape([k, -1]);
    return model.generator.apply(last) as tf.Tensor2D;
  });
}

/**
 * The search itself, as a generator: it yields each tensor whose values it
 * needs and is resumed with them, so that one algorithm serves the
 * synchronous and the asynchronous reader ({@link beamSearch},
 * {@link beamSearchAsync}). The reader disposes what it is given.
 */
function* beamSteps(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  maxLen: number,
  startSymbol: number,
  opts: BeamOptions,
): Generator<tf.Tensor2D, BeamResult, number[][]> {
  const size = opts.beamSize ?? 4, alpha = opts.lengthPenalty ?? 0, pad = opts.pad ?? 0;
  if (!(size >= 1)) throw new Error(`beamSize ${size} must be at least 1`);
  const rank = (b: Beam) => b.score / Math.pow(b.tokens.length, alpha);
  const rows: number[][] = [];
  const scores: number[] = [];
  for (let i = 0; i < src.shape[0]; i++) {
    const srcI = tf.slice(src, [i, 0], [1, -1]);
    const maskI = srcMask ? tf.slice(srcMask, [i, 0, 0], [1, -1, -1]) : undefined;
    const memory = tf.tidy(() => model.encode(srcI, maskI));
    try {
      let beams: Beam[] = [{ tokens: [startSymbol], score: 0, done: false }];
      for (let t = 1; t < maxLen && beams.some((b) => !b.done); t++) {
        const alive = beams.filter((b) => !b.done);
        const logp = yield nextLogProbs(model, memory, maskI, alive.map((b) => b.tokens));
        const candidates: Beam[] = beams.filter((b) => b.done);
        alive.forEach((b, j) =>
          logp[j].forEach((lp, v) =>
            candidates.push({
              tokens: [...b.tokens, v],
              score: b.score + lp,
              done: v === opts.endSymbol,
            })
          )
        );
        beams = candidates.sort((a, b) => rank(b) - rank(a)).slice(0, size);
      }
      const best = beams.reduce((a, b) => (rank(b) > rank(a) ? b : a));
      rows.push([...best.tokens, ...Array(maxLen - best.tokens.length).fill(pad)]);
      scores.push(best.score);
    } finally {
      tf.dispose([srcI, memory, ...(maskI ? [maskI] : [])]);
    }
  }
  return { ids: tf.tensor2d(rows.flat(), [rows.length, maxLen], "int32"), scores };
}

/**
 * Decodes `src` [B, S] with beam search, starting from `startSymbol`, to at
 * most `maxLen` tokens (start included), reading the model's outputs
 * asynchronously: works on every backend, WebGPU included. The model should
 * be in eval mode.
 */
export async function beamSearchAsync(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  maxLen: number,
  startSymbol: number,
  opts: BeamOptions = {},
): Promise<BeamResult> {
  const steps = beamSteps(model, src, srcMask, maxLen, startSymbol, opts);
  let next = steps.next();
  while (!next.done) {
    const t = next.value;
    let values: number[][];
    try {
      values = await t.array();
    } catch (e) {
      t.dispose();
      steps.return(undefined as never);
      throw e;
    }
    t.dispose();
    next = steps.next(values);
  }
  return next.value;
}

/**
 * Same as {@link beamSearchAsync}, reading synchronously: CPU backends only
 * (cpu, wasm, blas); a GPU tensor cannot be read synchronously in Deno.
 */
export function beamSearch(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  maxLen: number,
  startSymbol: number,
  opts: BeamOptions = {},
): BeamResult {
  const steps = beamSteps(model, src, srcMask, maxLen, startSymbol, opts);
  let next = steps.next();
  while (!next.done) {
    const t = next.value;
    let values: number[][];
    try {
      values = t.arraySync();
    } catch (e) {
      steps.return(undefined as never);
      throw e;
    } finally {
      t.dispose();
    }
    next = steps.next(values);
  }
  return next.value;
}

/** Σ_{t ≥ 1} log p(y_t | y_<t, x) per example, as a tensor [B]. */
function sequenceLogProbTensor(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  ys: tf.Tensor,
): tf.Tensor1D {
  return tf.tidy(() => {
    const [b, t] = ys.shape as [number, number];
    const inp = ys.slice([0, 0], [b, t - 1]);
    const next = ys.slice([0, 1], [b, t - 1]).toInt();
    const logp = model.generator.apply(
      model.decode(model.encode(src, srcMask), srcMask, inp, subsequentMask(t - 1)),
    );
    const v = logp.shape[2]!;
    return tf.sum(tf.mul(logp, tf.oneHot(next, v)), [1, 2]) as tf.Tensor1D;
  });
}

/**
 * Σ_{t ≥ 1} log p(y_t | y_<t, x) of given outputs `ys` [B, T] (first token the
 * start symbol), one number per example: to compare decoders. Read
 * asynchronously (any backend).
 */
export async function sequenceLogProbAsync(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  ys: tf.Tensor,
): Promise<number[]> {
  const picked = sequenceLogProbTensor(model, src, srcMask, ys);
  try {
    return Array.from(await picked.data());
  } finally {
    picked.dispose();
  }
}

/**
 * Same as {@link sequenceLogProbAsync}, read synchronously: CPU backends only
 * (cpu, wasm, blas).
 */
export function sequenceLogProb(
  model: EncoderDecoder,
  src: tf.Tensor,
  srcMask: tf.Tensor | undefined,
  ys: tf.Tensor,
): number[] {
  const picked = sequenceLogProbTensor(model, src, srcMask, ys);
  try {
    return Array.from(picked.dataSync());
  } finally {
    picked.dispose();
  }
}
