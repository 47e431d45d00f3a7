/**
 * Dropout (Srivastava et al., 2014), inverted: kept units are scaled by
 * 1/(1−p) while training, so evaluation is the identity.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";
import type { Module } from "./module.ts";

/**
 * Zeroes each element of `x` with probability `rate` and scales the rest by
 * 1/(1−rate). The mask's seed is drawn from `rng`, so a run is reproducible.
 * Returns `x` itself when not training or when `rate` is 0.
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  if (rate >= 1) {
    throw new Error(`dropout rate ${rate} must be below 1: choose model.dropout in [0, 1)`);
  }
  return tf.dropout(x, rate, undefined, rng.seed());
}

/** A module that owns a dropout stream. */
interface WithDropout {
  dropRng: Rng;
}

function dropoutRngs(m: Module): Rng[] {
  const own = (m as unknown as Partial<WithDropout>).dropRng;
  const out: Rng[] = own instanceof Rng ? [own] : [];
  for (const [, c] of m.children()) out.push(...dropoutRngs(c));
  return out;
}

/**
 * The states of every dropout stream in `model`, depth first: save it with a
 * checkpoint so that a resumed run draws the same dropout masks as an
 * uninterrupted one.
 */
export function dropoutState(model: Module): number[] {
  return dropoutRngs(model).map((r) => r.state);
}

/** Restores {@link dropoutState} into a model of the same architecture. */
export function loadDropoutState(model: Module, states: number[]): void {
  const rngs = dropoutRngs(model);
  if (rngs.length !== states.length) {
    throw new Error(
      `dropout state has ${states.length} streams but the model has ${rngs.length}: ` +
        `the checkpoint was written by a different architecture`,
    );
  }
  rngs.forEach((r, i) => (r.state = states[i]));
}
