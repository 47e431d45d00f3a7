/**
 * `Module`: a tree of named parameters, as in PyTorch's `nn.Module`.
 *
 * Parameter names follow PyTorch's `state_dict` keys
 * (`encoder.layers.0.self_attn.linears.0.weight`) and shapes follow PyTorch's
 * layouts (a Linear weight is `[out, in]`), so that a PyTorch state dict loads
 * without renaming, and parity fixtures are plain dictionaries.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor given as plain data: shape plus row-major values. */
export interface TensorData {
  shape: number[];
  data: ArrayLike<number>;
}

/** Base class of every layer and model. */
export abstract class Module {
  #params = new Map<string, tf.Variable>();
  #children = new Map<string, Module>();
  /** Dropout is active only while training. */
  training = true;

  /** Registers a trainable parameter under `name`; the tensor is kept (not copied). */
  protected param(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.#params.has(name)) throw new Error(`parameter "${name}" registered twice`);
    const v = tf.variable(init, trainable);
    init.dispose();
    this.#params.set(name, v);
    return v;
  }

  /** Registers a sub-module under `name` (use "0", "1", ... for lists). */
  protected child<M extends Module>(name: string, m: M): M {
    if (this.#children.has(name)) throw new Error(`module "${name}" registered twice`);
    this.#children.set(name, m);
    return m;
  }

  /** Sub-modules, in registration order. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** All parameters with their dotted names, depth first in registration order. */
  namedParameters(prefix = ""): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, p] of this.#params) out.push([prefix + n, p]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Trainable parameters only. */
  trainableParameters(): [string, tf.Variable][] {
    return this.namedParameters().filter(([, v]) => v.trainable);
  }

  /** Number of scalar parameters (trainable and not). */
  parameterCount(): number {
    return this.namedParameters().reduce((s, [, v]) => s + v.size, 0);
  }

  /** Switches dropout on (`true`) or off, recursively. Returns `this`. */
  train(on = true): this {
    this.training = on;
    for (const [, c] of this.#children) c.train(on);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Name → tensor (the variables themselves; do not dispose them). */
  stateDict(): Record<string, tf.Variable> {
    return Object.fromEntries(this.namedParameters());
  }

  /**
   * Assigns values by name. With `strict`, a missing or unexpected name, or a
   * shape mismatch, is an error that names the parameter.
   */
  loadStateDict(dict: Record<string, tf.Tensor | TensorData>, strict = true): void {
    const own = new Map(this.namedParameters());
    const problems: string[] = [];
    for (const [name, value] of Object.entries(dict)) {
      const v = own.get(name);
      if (!v) {
        if (strict) problems.push(`unexpected parameter "${name}"`);
        continue;
      }
      const shape = value instanceof tf.Tensor ? value.shape : value.shape;
      if (shape.join(",") !== v.shape.join(",")) {
        problems.push(`"${name}": shape [${shape}] does not match [${v.shape}]`);
        continue;
      }
      if (value instanceof tf.Tensor) v.assign(value.cast(v.dtype));
      else tf.tidy(() => v.assign(tf.tensor(Array.from(value.data), shape, v.dtype)));
    }
    if (strict) {
      for (const name of own.keys()) {
        if (!(name in dict)) problems.push(`missing parameter "${name}"`);
      }
    }
    if (problems.length) throw new Error(`loadStateDict: ${problems.join("; ")}`);
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const [, v] of this.namedParameters()) v.dispose();
  }
}
