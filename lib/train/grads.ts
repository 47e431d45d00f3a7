/**
 * Gradients keyed by parameter path, as PyTorch's `named_parameters()` names
 * them. For a scalar loss L(θ) of the parameters θ = {θ_p} (p a path such as
 * `encoder.layers.0.self_attn.linears.0.weight`):
 *
 *   valueAndGrads(model, f) = (L, { p: ∂L/∂θ_p })
 *
 * `tf.variableGrads` keys its gradients by TF.js variable name, an id that
 * means nothing to an optimizer; {@link Adam} takes paths and throws on a name
 * it does not know, so the two meet here, once.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module.ts";

/** Named parameters: a module, or `[path, variable]` pairs (e.g. several modules' together). */
export type NamedParameters = Pick<Module, "trainableParameters"> | [string, tf.Variable][];

/** A loss and the gradient of each parameter it depends on. */
export interface LossAndGrads {
  /** The scalar loss. */
  value: tf.Scalar;
  /** Parameter path → ∂loss/∂parameter; a parameter the loss does not use has none. */
  grads: Record<string, tf.Tensor>;
}

/**
 * The loss `f()` and its gradients with respect to the trainable parameters,
 * keyed by parameter path. Tensors made inside `f` are freed; the caller
 * disposes `value` and the gradients.
 */
export function valueAndGrads(params: NamedParameters, f: () => tf.Scalar): LossAndGrads {
  const named = Array.isArray(params) ? params : params.trainableParameters();
  const pathOf = new Map(named.map(([path, v]) => [v.name, path]));
  const { value, grads: byId } = tf.variableGrads(f, named.map(([, v]) => v));
  const grads: Record<string, tf.Tensor> = {};
  for (const [id, g] of Object.entries(byId)) grads[pathOf.get(id)!] = g;
  return { value, grads };
}
