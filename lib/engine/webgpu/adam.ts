/**
 * Adam updates on the webgpu backend, in place: the parameters of a step in a
 * few dispatches (as many parameters a dispatch as the device binds), instead
 * of the dozen kernels a parameter of the tensor formula.
 *
 * On a GPU a small model's training step is bound by the number of dispatches
 * (each costs about 0.1 ms of JavaScript and WebGPU calls in Deno), and the
 * tensor formula in `lib/train/adam.ts` spends about twelve per parameter,
 * each with a fresh output buffer. Here one thread per element (four floats
 * where every size of the group allows) rewrites the moments and the
 * parameter in their own buffers:
 *
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·λ) − lr · (m/c1) / (√(v/c2) + ε)
 *
 * with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ and λ the decoupled weight decay (the
 * factor is skipped when λ = 0), as in the tensor formula. A TF.js program
 * writes one output, so this is an own WGSL module recorded with
 * {@link rawDispatch}: four bindings a parameter (p, m, v written, g read),
 * the sizes compiled into the module, one pipeline per group of sizes.
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
import type { AdamStepConstants } from "../blas/fused_adam.ts";
import { GRID_X, rawDispatch, wrappedGrid } from "./dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

const WORKGROUP = 128;

/** One parameter's update: the variable, its gradient and its two moments. */
export interface AdamSlot {
  p: tf.Variable;
  g: tf.Tensor;
  m: tf.Variable;
  v: tf.Variable;
}

/** The update's WGSL for parameters of `sizes` elements (in `components`-float units). */
function adamShader(sizes: number[], components: 1 | 4, decay: boolean): string {
  const t = components === 4 ? "vec4<f32>" : "f32";
  const decl = sizes.map((_, j) => `
    @group(0) @binding(${4 * j}) var<storage, read_write> P${j} : array<${t}>;
    @group(0) @binding(${4 * j + 1}) var<storage, read_write> M${j} : array<${t}>;
    @group(0) @binding(${4 * j + 2}) var<storage, read_write> V${j} : array<${t}>;
    @group(0) @binding(${4 * j + 3}) var<storage, read> G${j} : array<${t}>;`).join("");
  let start = 0;
  const branches = sizes.map((n, j) => {
    const keep = decay ? `P${j}[o] * u.keep` : `P${j}[o]`;
    const body = `{
        let o = i - ${start};
        let g : ${t} = G${j}[o];
        let m : ${t} = u.beta1 * M${j}[o] + g * u.rest1;
        let v : ${t} = u.beta2 * V${j}[o] + (g * g) * u.rest2;
        M${j}[o] = m;
        V${j}[o] = v;
        let mhat : ${t} = m / u.c1;
        let denom : ${t} = sqrt(v / u.c2) + u.eps;
        P${j}[o] = ${keep} - (mhat / denom) * u.lr;
      }`;
    start += n;
    return `if (i < ${start}) ${body}`;
  }).join(" else ");
  return `
    struct Uniforms {
      beta1 : f32, rest1 : f32, beta2 : f32, rest2 : f32,
      lr : f32, c1 : f32, c2 : f32, eps : f32, keep : f32,
    };
    ${decl}
    @group(0) @binding(${4 * sizes.length}) var<uniform> u : Uniforms;
    @compute @workgroup_size(${WORKGROUP})
    fn main(@builtin(global_invocation_id) id : vec3<u32>) {
      let i = i32(id.x + id.y * ${GRID_X * WORKGROUP}u);
      ${branches}
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

/** Whether `slot` may be updated in place on `backend`. */
function eligible(backend: AnyBackend, { p, g, m, v }: AdamSlot): boolean {
  for (const t of [p, g, m, v]) if (t.dtype !== "float32" || t.isDisposed) return false;
  const n = p.size;
  if (n === 0 || g.size !== n || m.size !== n || v.size !== n) return false;
  if (!soleOwner(backend, p) || !soleOwner(backend, m) || !soleOwner(backend, v)) {
    counts.declined++;
    return false;
  }
  return true;
}

/** Parameters a dispatch binds: four storage buffers each, within the device's limits. */
function groupSize(backend: AnyBackend): number {
  const limits = backend.device?.limits ?? {};
  const buffers = Math.min(
    limits.maxStorageBuffersPerShaderStage ?? 8,
    (limits.maxBindingsPerBindGroup ?? 1000) - 1,
  );
  return Math.max(1, Math.min(64, Math.floor(buffers / 4)));
}

/** Records the update of `group` (same components) in one dispatch. */
function dispatchGroup(
  backend: AnyBackend,
  group: AdamSlot[],
  components: 1 | 4,
  k: AdamStepConstants,
): void {
  const decay = k.weightDecay !== 0;
  const sizes = group.map((s) => s.p.size / components);
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups = Math.ceil(total / WORKGROUP);
  const f = (x: number) => ({ type: "float32", data: [x] });
  rawDispatch(backend, {
    key: `fuselab_adam_${components}_${decay ? "decay" : "plain"}_${sizes.join("_")}`,
    code: adamShader(sizes, components, decay),
    tensors: group.flatMap(({ p, m, v, g }) => [p, m, v, g]),
    uniforms: [k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2, k.lr, k.c1, k.c2, k.epsilon]
      .concat([1 - k.lr * k.weightDecay]).map(f),
    workgroups: wrappedGrid(groups),
  });
}

/**
 * Updates every slot it can in place on the webgpu backend, as many
 * parameters a dispatch as the device binds, and returns which it updated;
 * the others (not webgpu, not float32, sizes that differ, data shared with
 * other tensors) are left unchanged for the caller's tensor formula.
 */
export function webgpuAdamInPlaceAll(slots: AdamSlot[], k: AdamStepConstants): boolean[] {
  const done = slots.map(() => false);
  if (tf.getBackend() !== "webgpu") return done;
  const backend = tf.backend() as AnyBackend;
  if (typeof backend.runWebGPUProgram !== "function") return done;
  const byComponents: Record<1 | 4, number[]> = { 1: [], 4: [] };
  slots.forEach((s, i) => {
    if (eligible(backend, s)) byComponents[s.p.size % 4 === 0 ? 4 : 1].push(i);
  });
  const size = groupSize(backend);
  for (const components of [4, 1] as const) {
    const idx = byComponents[components];
    for (let at = 0; at < idx.length; at += size) {
      const part = idx.slice(at, at + size);
      dispatchGroup(backend, part.map((i) => slots[i]), components, k);
      for (const i of part) done[i] = true;
      counts.inPlace += part.length;
    }
  }
  return done;
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
  return webgpuAdamInPlaceAll([{ p, g, m, v }], k)[0];
}
