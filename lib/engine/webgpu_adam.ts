/**
 * One Adam update of one parameter on the webgpu backend, in place, in one
 * dispatch instead of the dozen kernels of the tensor formula.
 *
 * On a GPU a small model's training step is bound by the number of dispatches
 * (each costs about 0.1 ms of JavaScript and WebGPU calls in Deno), and the
 * tensor formula in `lib/train/adam.ts` spends about twelve per parameter,
 * each with a fresh output buffer. Here one thread per four floats rewrites
 * the moments and the parameter in their own buffers:
 *
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·λ) − lr · (m/c1) / (√(v/c2) + ε)
 *
 * with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ and λ the decoupled weight decay (the
 * factor is skipped when λ = 0), as in the tensor formula. A TF.js program
 * writes one output, so this is an own WGSL module recorded with
 * {@link rawDispatch} (three buffers written); it was three TF.js programs.
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
import { rawDispatch } from "./webgpu_dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

const WORKGROUP = 128;
/** Workgroups along x before the grid wraps into y (WebGPU's guaranteed limit). */
const MAX_X = 65535;

/** The update's WGSL: four floats a thread where `n` allows, else one. */
function adamShader(components: 1 | 4, decay: boolean): string {
  const t = components === 4 ? "vec4<f32>" : "f32";
  const keep = decay ? "P[i] * u.keep" : "P[i]";
  return `
    struct Uniforms {
      size : i32, beta1 : f32, rest1 : f32, beta2 : f32, rest2 : f32,
      lr : f32, c1 : f32, c2 : f32, eps : f32, keep : f32,
    };
    @group(0) @binding(0) var<storage, read_write> P : array<${t}>;
    @group(0) @binding(1) var<storage, read_write> M : array<${t}>;
    @group(0) @binding(2) var<storage, read_write> V : array<${t}>;
    @group(0) @binding(3) var<storage, read> G : array<${t}>;
    @group(0) @binding(4) var<uniform> u : Uniforms;
    @compute @workgroup_size(${WORKGROUP})
    fn main(@builtin(global_invocation_id) id : vec3<u32>) {
      let i = i32(id.x + id.y * ${MAX_X * WORKGROUP}u);
      if (i >= u.size) { return; }
      let g : ${t} = G[i];
      let m : ${t} = u.beta1 * M[i] + g * u.rest1;
      let v : ${t} = u.beta2 * V[i] + (g * g) * u.rest2;
      M[i] = m;
      V[i] = v;
      let mhat : ${t} = m / u.c1;
      let denom : ${t} = sqrt(v / u.c2) + u.eps;
      P[i] = ${keep} - (mhat / denom) * u.lr;
    }
  `;
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
  const components = n % 4 === 0 ? 4 : 1;
  const decay = k.weightDecay !== 0;
  const groups = Math.ceil(n / components / WORKGROUP);
  const f = (x: number) => ({ type: "float32", data: [x] });
  rawDispatch(backend, {
    key: `fuselab_adam_${components}_${decay ? "decay" : "plain"}`,
    code: adamShader(components, decay),
    tensors: [p, m, v, g],
    uniforms: [
      { type: "int32", data: [n / components] },
      ...[k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2].map(f),
      ...[k.lr, k.c1, k.c2, k.epsilon, 1 - k.lr * k.weightDecay].map(f),
    ],
    workgroups: [Math.min(groups, MAX_X), Math.ceil(groups / MAX_X), 1],
  });
  counts.inPlace++;
  return true;
}
