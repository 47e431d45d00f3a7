/**
 * Adam (Kingma & Ba) with the Annotated Transformer's defaults
 * β1 = 0.9, β2 = 0.98, ε = 1e-9, and a learning rate given per step (so that
 * a schedule such as {@link noamRate} drives it). Its moments are plain
 * tensors, so the state can be checkpointed and restored exactly.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { fusedAdamUpdate } from "../engine/blas/fused_adam.ts";
import { webgpuAdamInPlaceAll } from "../engine/webgpu/adam.ts";

/** Adam hyper-parameters. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW); 0 for plain Adam. */
  weightDecay?: number;
  /**
   * Update each parameter in one pass over the wasm heap when the backend is
   * wasm (bit-for-bit the tensor formula), or in place on webgpu, many
   * parameters a dispatch (default true). Elsewhere the tensor formula runs regardless.
   */
  fused?: boolean;
  /**
   * Also throw when a parameter gets no gradient in an update (a parameter the
   * loss never uses, or a gradient dropped by mistake). Default false.
   */
  strict?: boolean;
}

/** Adam over a fixed list of named variables. */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Whether the fused wasm update is used where it applies. */
  readonly fused: boolean;
  /** Whether an update without a gradient for every parameter is an error. */
  readonly strict: boolean;
  /** Number of updates applied so far. */
  step = 0;
  #m = new Map<string, tf.Variable>();
  #v = new Map<string, tf.Variable>();

  /** @param params the named variables to update (e.g. `model.trainableParameters()`). */
  constructor(readonly params: [string, tf.Variable][], opts: AdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.98;
    this.epsilon = opts.epsilon ?? 1e-9;
    this.weightDecay = opts.weightDecay ?? 0;
    this.fused = opts.fused ?? true;
    this.strict = opts.strict ?? false;
    for (const [n, p] of params) {
      // tidy frees the zeros tensors; the variables keep their data.
      this.#m.set(n, tf.tidy(() => tf.variable(tf.zeros(p.shape, p.dtype), false)));
      this.#v.set(n, tf.tidy(() => tf.variable(tf.zeros(p.shape, p.dtype), false)));
    }
  }

  /**
   * One update: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
   * p ← p − lr · m̂ / (√v̂ + ε), with bias-corrected m̂, v̂.
   *
   * `grads` is keyed by parameter path (see `valueAndGrads` in `./grads.ts`). A name that
   * is no parameter's is an error naming it, and so (when `strict`) is a
   * parameter without a gradient; nothing is updated then.
   */
  apply(grads: Record<string, tf.Tensor | undefined>, lr: number): void {
    this.#check(grads);
    this.step++;
    const b1 = this.beta1, b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.step);
    const c2 = 1 - Math.pow(b2, this.step);
    const k = {
      beta1: b1,
      beta2: b2,
      c1,
      c2,
      epsilon: this.epsilon,
      lr,
      weightDecay: this.weightDecay,
    };
    const slots = this.params.filter(([n]) => grads[n]).map(([n, p]) => ({
      p,
      g: grads[n]!,
      m: this.#m.get(n)!,
      v: this.#v.get(n)!,
    }));
    // On webgpu: many parameters a dispatch, in place.
    const done = this.fused ? webgpuAdamInPlaceAll(slots, k) : slots.map(() => false);
    tf.tidy(() => {
      slots.forEach(({ p, g, m, v }, i) => {
        if (done[i]) return;
        const fused = this.fused && fusedAdamUpdate(p, g, m, v, k);
        if (fused) {
          p.assign(fused[0]);
          m.assign(fused[1]);
          v.assign(fused[2]);
          return;
        }
        m.assign(m.mul(b1).add(g.mul(1 - b1)));
        v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
        const update = m.div(c1).div(v.div(c2).sqrt().add(this.epsilon)).mul(lr);
        const decayed = this.weightDecay ? p.mul(1 - lr * this.weightDecay) : p;
        p.assign(decayed.sub(update));
      });
    });
  }

  /** Throws, naming them, on gradients of unknown names and (strict) on parameters without one. */
  #check(grads: Record<string, tf.Tensor | undefined>): void {
    const unknown = Object.keys(grads).filter((n) => !this.#m.has(n));
    const quote = (names: string[]) => {
      const shown = names.slice(0, 8).map((n) => `"${n}"`).join(", ");
      return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
    };
    if (unknown.length) {
      const known = this.params.slice(0, 3).map(([n]) => `"${n}"`).join(", ");
      throw new Error(
        `Adam.apply: ${unknown.length} gradient(s) name no parameter: ${quote(unknown)}. ` +
          `Gradients are keyed by parameter path (this optimizer's are ${known}, ...); ` +
          "tf.variableGrads keys them by TF.js variable name: use valueAndGrads(model, f) " +
          "from lib/train/grads.ts",
      );
    }
    if (this.strict) {
      const missing = this.params.filter(([n]) => !grads[n]).map(([n]) => n);
      if (missing.length) {
        throw new Error(
          `Adam.apply (strict): no gradient for ${missing.length} parameter(s): ` +
            `${quote(missing)}; the loss does not use them, or their gradients were dropped`,
        );
      }
    }
  }

  /** Optimizer state for a checkpoint: `m.<name>`, `v.<name>` (the variables; do not dispose). */
  state(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [n, t] of this.#m) out[`m.${n}`] = t;
    for (const [n, t] of this.#v) out[`v.${n}`] = t;
    return out;
  }

  /** Restores {@link Adam.state} and the step count. */
  loadState(state: Record<string, tf.Tensor>, step: number): void {
    for (const [n, t] of this.#m) if (state[`m.${n}`]) t.assign(state[`m.${n}`]);
    for (const [n, t] of this.#v) if (state[`v.${n}`]) t.assign(state[`v.${n}`]);
    this.step = step;
  }

  /** Frees the moment tensors. */
  dispose(): void {
    for (const t of this.#m.values()) t.dispose();
    for (const t of this.#v.values()) t.dispose();
  }
}
