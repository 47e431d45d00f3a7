/**
 * One Adam update of one parameter on the webgpu backend, in place: three
 * dispatches instead of the dozen kernels of the tensor formula.
 *
 * On a GPU a small model's training step is bound by the number of dispatches
 * (each costs about 0.1 ms of JavaScript and WebGPU calls in Deno), and the
 * tensor formula in `lib/train/adam.ts` spends about twelve per parameter,
 * each with a fresh output buffer. Here the moments and the parameter are
 * rewritten in their own buffers:
 *
 *   m ← β1·m + (1−β1)·g                                  (dispatch 1)
 *   v ← β2·v + (1−β2)·g²                                 (dispatch 2)
 *   p ← p·(1 − lr·λ) − lr · (m/c1) / (√(v/c2) + ε)        (dispatch 3)
 *
 * with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ and λ the decoupled weight decay (the
 * factor is skipped when λ = 0), as in the tensor formula.
 *
 * Writing in place is only done when the variable is the sole owner of its
 * data (TF.js shares data between a tensor and its reshapes, and between a
 * variable and the tensor it was assigned); otherwise the caller falls back to
 * the tensor formula. Commands run in the order they are recorded, so the
 * forward and backward kernels already queued read the old values.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { AdamStepConstants } from "./accel/fused_adam.ts";
import { flatProgram } from "./webgpu_dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** The three programs; `role` picks the shader. */
type Role = "m" | "v" | "p";

const INPUTS: Record<Role, string[]> = { m: ["G"], v: ["G"], p: ["M", "V"] };

/** The shader of one role, four floats a thread where `n` allows. */
function adamProgram(role: Role, n: number, decay: boolean) {
  const components = n % 4 === 0 ? 4 : 1;
  const t = components === 4 ? "vec4<f32>" : "f32";
  let body: string;
  if (role === "m") {
    body = `result[index] = uniforms.beta * result[index] + G[index] * uniforms.rest;`;
  } else if (role === "v") {
    body = `let g : ${t} = G[index];
          result[index] = uniforms.beta * result[index] + (g * g) * uniforms.rest;`;
  } else {
    const p = decay ? "result[index] * uniforms.keep" : "result[index]";
    body = `let mhat : ${t} = M[index] / uniforms.c1;
          let denom : ${t} = sqrt(V[index] / uniforms.c2) + uniforms.eps;
          result[index] = ${p} - (mhat / denom) * uniforms.lr;`;
  }
  return flatProgram({
    key: `fuselab_adam_${role}_${components}_${decay ? "decay" : "plain"}`,
    inputs: INPUTS[role],
    outputShape: [n],
    uniforms: role === "p"
      ? "lr : f32, c1 : f32, c2 : f32, eps : f32, keep : f32,"
      : "beta : f32, rest : f32,",
    body: `if (index < uniforms.size) { ${body} }`,
    components,
    workgroup: 128,
  });
}

const counts = { inPlace: 0, declined: 0 };

/** How many updates ran in place, and how many were declined (shared data, dtype). */
export function webgpuAdamCounts(): { inPlace: number; declined: number } {
  return { ...counts };
}

/** Whether `t`'s data belongs to `t` alone (no reshape or other tensor shares it). */
function soleOwner(backend: AnyBackend, t: tf.Tensor): boolean {
  return typeof backend.refCount === "function" && backend.refCount(t.dataId) === 1;
}

/**
 * Updates `p`, `m` and `v` in place on the webgpu backend and returns true, or
 * returns false and changes nothing when the fused path does not apply (not
 * webgpu, not float32, sizes that differ, or data shared with other tensors).
 */
export function webgpuAdamInPlace(
  p: tf.Variable,
  g: tf.Tensor,
  m: tf.Variable,
  v: tf.Variable,
  k: AdamStepConstants,
): boolean {
  if (tf.getBackend() !== "webgpu") return false;
  for (const t of [p, g, m, v]) if (t.dtype !== "float32" || t.isDisposed) return false;
  const n = p.size;
  if (n === 0 || g.size !== n || m.size !== n || v.size !== n) return false;
  const backend = tf.backend() as AnyBackend;
  if (typeof backend.runWebGPUProgram !== "function") return false;
  if (!soleOwner(backend, p) || !soleOwner(backend, m) || !soleOwner(backend, v)) {
    counts.declined++;
    return false;
  }
  const flat = (t: tf.Tensor) => ({ dataId: t.dataId, shape: [n], dtype: "float32" });
  // Writes `out` in place; one uniform entry per scalar (TF.js aligns a
  // multi-value entry as a vector).
  const run = (role: Role, decay: boolean, inputs: tf.Tensor[], out: tf.Tensor, xs: number[]) =>
    backend.runWebGPUProgram(
      adamProgram(role, n, decay),
      inputs.map(flat),
      "float32",
      xs.map((x) => ({ type: "float32", data: [x] })),
      flat(out),
    );
  run("m", false, [g], m, [k.beta1, 1 - k.beta1]);
  run("v", false, [g], v, [k.beta2, 1 - k.beta2]);
  run("p", k.weightDecay !== 0, [m, v], p, [k.lr, k.c1, k.c2, k.epsilon, 1 - k.lr * k.weightDecay]);
  counts.inPlace++;
  return true;
}
