/**
 * One Adam update of one parameter as a single pass over the wasm heap.
 *
 * The tensor formula in `lib/train/adam.ts` costs about a dozen kernels per
 * parameter (each allocating a temporary); this reads p, g, m, v once and
 * writes the new p, m, v into three fresh tensors. Every step is rounded to
 * float32 (`Math.fround`) exactly where a float32 kernel would round, so the
 * result is bit-for-bit the tensor formula's on the wasm backend:
 *
 *   m' = β1·m + (1−β1)·g
 *   v' = β2·v + (1−β2)·g²
 *   p' = p·(1 − lr·λ) − lr · (m'/c1) / (√(v'/c2) + ε)
 *
 * with c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ (bias corrections) and λ the decoupled
 * weight decay (the factor is skipped when λ = 0).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { f32, offsetOf, type WasmBackend } from "./heap.ts";
import { adamSimdFor } from "./adam_simd.ts";

/** The per-step constants of one Adam update. */
export interface AdamStepConstants {
  beta1: number;
  beta2: number;
  /** Bias corrections 1 − β1ᵗ and 1 − β2ᵗ. */
  c1: number;
  c2: number;
  epsilon: number;
  lr: number;
  /** Decoupled weight decay λ; 0 for plain Adam. */
  weightDecay: number;
}

/**
 * The updated `[p, m, v]` as new tensors (the caller assigns and disposes
 * them), or `null` when the fused path does not apply: not the wasm backend,
 * not float32, sizes that differ, or data not on the wasm heap. Callers then
 * use the tensor formula. The bulk runs in a SIMD WebAssembly loop
 * (`adam_simd.ts`) where the runtime allows, the rest (and everything with
 * `simd: false`) in a JavaScript loop; both give the same bits.
 */
export function fusedAdamUpdate(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  k: AdamStepConstants,
  opts: { simd?: boolean } = {},
): [tf.Tensor, tf.Tensor, tf.Tensor] | null {
  if (tf.getBackend() !== "wasm") return null;
  for (const t of [p, g, m, v]) if (t.dtype !== "float32" || t.isDisposed) return null;
  const n = p.size;
  if (g.size !== n || m.size !== n || v.size !== n) return null;
  const backend = tf.backend() as unknown as WasmBackend;
  for (const t of [p, g, m, v]) if (!backend.dataIdMap.get(t.dataId)) return null;

  // Allocate first: this can grow the heap and detach earlier views.
  const engine = tf.engine();
  const outs = [0, 1, 2].map(() =>
    engine.makeTensorFromTensorInfo(backend.makeOutput(p.shape, "float32"))
  ) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const f = Math.fround;
  // The scalars exactly as float32 scalar tensors would hold them; a decay of
  // 1 (no weight decay) leaves p's bits unchanged.
  const b1 = f(k.beta1), a1 = f(1 - k.beta1), b2 = f(k.beta2), a2 = f(1 - k.beta2);
  const c1 = f(k.c1), c2 = f(k.c2), eps = f(k.epsilon), lr = f(k.lr);
  const decay = k.weightDecay ? f(1 - k.lr * k.weightDecay) : 1;

  let done = 0;
  const memory = (backend.wasm as { asm?: { memory?: WebAssembly.Memory } }).asm?.memory;
  const simd = opts.simd !== false && memory ? adamSimdFor(memory) : null;
  if (simd && memory!.buffer === backend.wasm.HEAPU8.buffer) {
    done = n - (n % 4);
    const [op, og, om, ov] = [p, g, m, v].map((t) => offsetOf(backend, t));
    const [opo, omo, ovo] = outs.map((t) => offsetOf(backend, t));
    simd(op, og, om, ov, opo, omo, ovo, done, b1, a1, b2, a2, c1, c2, eps, lr, decay);
  }
  if (done === n) return outs;
  const [pOut, mOut, vOut] = outs.map((t) => f32(backend, t));
  const pIn = f32(backend, p), gIn = f32(backend, g), mIn = f32(backend, m), vIn = f32(backend, v);
  for (let i = done; i < n; i++) {
    const gi = gIn[i];
    const mi = f(f(mIn[i] * b1) + f(gi * a1));
    const vi = f(f(vIn[i] * b2) + f(f(gi * gi) * a2));
    const denom = f(f(Math.sqrt(f(vi / c2))) + eps);
    const upd = f(f(f(mi / c1) / denom) * lr);
    pOut[i] = f(pIn[i] * decay) - upd;
    mOut[i] = mi;
    vOut[i] = vi;
  }
  return outs;
}
