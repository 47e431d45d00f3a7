/**
 * The fused softmax cross-entropy's two passes (see `softmax_xent.ts`) as
 * 128-bit SIMD WebAssembly on the wasm backend's memory, for class counts
 * that are a multiple of 4.
 *
 * Forward, per row of logits z: m = max z, e = exp(z − m) stored, and
 * (m, Σe) written to a [rows, 2] scratch; the caller takes the logarithm and
 * the loss from those (WebAssembly has no log). Backward: g = k_r · e with
 * k_r = s·dy / Σe per row; the caller subtracts s·dy at each label.
 *
 * exp(x) for x ≤ 0: x clamped at −87 (e^−87 ≈ 1.6e−38, the smallest normal
 * float32's neighbourhood; the JavaScript loop returns 0 below −110), then
 * x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^7 (relative
 * error below 1e-8), times 2^k built in the exponent bits.
 *
 * @module
 */
import { assemble, F32, Fn, I32, instantiator, V128 } from "./wasm_asm.ts";

/** The exported kernels; addresses are byte offsets into the backend's memory. */
export interface XentSimd {
  xent_forward(z: number, e: number, stats: number, rows: number, c: number): void;
  xent_backward(e: number, k: number, g: number, rows: number, c: number): void;
}

const LN2_HI = 0.693145751953125, LN2_LO = 1.428606765330187e-6;

function forward(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]); // z e stats rows c
  const [Z, E, S, ROWS, C] = [0, 1, 2, 3, 4];
  const r = f.local(I32), o = f.local(I32), j = f.local(I32), cb = f.local(I32);
  const m4 = f.local(V128), acc = f.local(V128), x = f.local(V128), kf = f.local(V128);
  const rr = f.local(V128), p = f.local(V128), ev = f.local(V128);
  const m = f.local(F32);
  const zAt = () => f.get(Z).get(o).add().get(j).add();
  f.get(C).i32(4).mul().set(cb);
  f.loop(r, ROWS, 1, () => {
    f.get(r).get(cb).mul().set(o);
    f.f32(-Infinity).splat().set(m4);
    f.loop(j, cb, 16, () => {
      f.get(m4);
      zAt().vload().vmax().set(m4);
    });
    f.hmax(m4).set(m);
    f.get(m).splat().set(m4);
    f.vzero(acc);
    f.loop(j, cb, 16, () => {
      // x = max(z − m, −87)
      zAt().vload().get(m4).vsub().f32(-87).splat().vmax().set(x);
      f.get(x).f32(Math.LOG2E).splat().vmul().vnearest().set(kf);
      f.get(x).get(kf).f32(LN2_HI).splat().vmul().vsub();
      f.get(kf).f32(LN2_LO).splat().vmul().vsub().set(rr);
      // p = 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040))))))
      f.get(rr).f32(1 / 5040).splat().vmul().f32(1 / 720).splat().vadd().set(p);
      for (const c of [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) {
        f.get(p).get(rr).vmul().f32(c).splat().vadd().set(p);
      }
      // × 2^k: ((k + 127) << 23) read as float32 lanes
      f.get(p).get(kf).vtruncI32().i32(127).isplat().iadd4().i32(23).ishl4().vmul().set(ev);
      f.get(E).get(o).add().get(j).add().get(ev).vstore();
      f.get(acc).get(ev).vadd().set(acc);
    });
    f.get(S).get(r).i32(8).mul().add().get(m).fstore();
    f.get(S).get(r).i32(8).mul().add().i32(4).add().hsum(acc).fstore();
  });
  return f;
}

function backward(): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]); // e k g rows c
  const [E, K, G, ROWS, C] = [0, 1, 2, 3, 4];
  const r = f.local(I32), o = f.local(I32), j = f.local(I32), cb = f.local(I32);
  const k4 = f.local(V128);
  f.get(C).i32(4).mul().set(cb);
  f.loop(r, ROWS, 1, () => {
    f.get(r).get(cb).mul().set(o);
    f.get(K).get(r).i32(4).mul().add().fload().splat().set(k4);
    f.loop(j, cb, 16, () => {
      f.get(G).get(o).add().get(j).add();
      f.get(E).get(o).add().get(j).add().vload().get(k4).vmul().vstore();
    });
  });
  return f;
}

/** The kernels bound to `memory`, or `null` where SIMD WebAssembly is unavailable. */
export const xentSimdFor: (memory: WebAssembly.Memory) => XentSimd | null = instantiator<XentSimd>(
  () => assemble({ xent_forward: forward(), xent_backward: backward() }),
);
