/**
 * `ModuleList`: numbered sub-modules, as PyTorch's `nn.ModuleList`, so that
 * parameter names read `layers.0.…`, `linears.3.…`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { Module } from "./module.ts";

/** An indexable list of modules registered as children "0", "1", .... */
export class ModuleList<M extends Module = Module> extends Module {
  /** The modules, in order. */
  readonly items: M[] = [];

  /** @param modules the modules, registered as "0", "1", ... */
  constructor(modules: M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends a module under the next index; returns it. */
  push(m: M): M {
    this.items.push(this.child(String(this.items.length), m));
    return m;
  }

  /** The module at `i`. */
  at(i: number): M {
    return this.items[i];
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }
}

/** A module with a one-input forward pass. */
export interface Layer extends Module {
  /** x → y. */
  apply(x: tf.Tensor): tf.Tensor;
}

/** Modules applied in turn (PyTorch's `nn.Sequential`), named "0", "1", .... */
export class Sequential extends ModuleList<Layer> {
  /** x → items[n−1](… items[0](x)). */
  apply(x: tf.Tensor): tf.Tensor {
    for (const m of this.items) x = m.apply(x);
    return x;
  }
}
