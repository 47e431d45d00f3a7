/**
 * The fused LayerNorm's two passes (see `layer_norm.ts`) as 128-bit SIMD
 * WebAssembly on the wasm backend's memory, four floats at a time, for rows
 * whose width is a multiple of 4. Sums accumulate in float32 lanes (the
 * JavaScript loops use float64), so results differ from them in the last bits.
 *
 * @module
 */
import { assemble, F32, Fn, I32, instantiator, V128 } from "./wasm_asm.ts";

/** The exported kernels; addresses are byte offsets into the backend's memory. */
export interface LayerNormSimd {
  /** y and stats ([rows, 2]: μ, σ) of x [rows, n]. */
  ln_forward(
    x: number,
    a: number,
    b: number,
    y: number,
    stats: number,
    rows: number,
    n: number,
    eps: number,
    nf: number,
    d: number,
  ): void;
  /** ∂x, and ∂a, ∂b added to (zero them first). */
  ln_backward(
    dy: number,
    x: number,
    a: number,
    stats: number,
    dx: number,
    da: number,
    db: number,
    rows: number,
    n: number,
    eps: number,
    nf: number,
    d: number,
  ): void;
}

function forward(): Fn {
  // x a b y stats rows n | eps nf d
  const f = new Fn([I32, I32, I32, I32, I32, I32, I32, F32, F32, F32]);
  const [X, A, B, Y, S, ROWS, N, EPS, NF, D] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const r = f.local(I32), o = f.local(I32), j = f.local(I32), nb = f.local(I32);
  const acc = f.local(V128), mu4 = f.local(V128), inv4 = f.local(V128), c = f.local(V128);
  const mu = f.local(F32), sigma = f.local(F32);
  const xAt = () => f.get(X).get(o).add().get(j).add();
  f.get(N).i32(4).mul().set(nb);
  f.loop(r, ROWS, 1, () => {
    f.get(r).get(nb).mul().set(o);
    f.vzero(acc);
    f.loop(j, nb, 16, () => {
      f.get(acc);
      xAt().vload().vadd().set(acc);
    });
    f.hsum(acc).get(NF).fdiv().set(mu);
    f.get(mu).splat().set(mu4);
    f.vzero(acc);
    f.loop(j, nb, 16, () => {
      xAt().vload().get(mu4).vsub().set(c);
      f.get(acc).get(c).get(c).vmul().vadd().set(acc);
    });
    f.hsum(acc).get(D).fdiv().fsqrt().set(sigma);
    f.f32(1).get(sigma).get(EPS).fadd().fdiv().splat().set(inv4);
    f.loop(j, nb, 16, () => {
      f.get(Y).get(o).add().get(j).add(); // address of y
      f.get(A).get(j).add().vload(); // a
      xAt().vload().get(mu4).vsub().get(inv4).vmul().vmul(); // a · ((x − μ) · inv)
      f.get(B).get(j).add().vload().vadd().vstore(); // + b
    });
    f.get(S).get(r).i32(8).mul().add().get(mu).fstore();
    f.get(S).get(r).i32(8).mul().add().i32(4).add().get(sigma).fstore();
  });
  return f;
}

function backward(): Fn {
  // dy x a stats dx da db rows n | eps nf d
  const f = new Fn([I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32]);
  const [DY, X, A, S, DX, DA, DB, ROWS, N, EPS, NF, D] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const r = f.local(I32), o = f.local(I32), j = f.local(I32), nb = f.local(I32);
  const accG = f.local(V128), accGX = f.local(V128), g = f.local(V128), xc = f.local(V128);
  const mu4 = f.local(V128), inv4 = f.local(V128), mg4 = f.local(V128), k4 = f.local(V128);
  const gy = f.local(V128);
  const mu = f.local(F32), sigma = f.local(F32), inv = f.local(F32);
  const at = (base: number) => f.get(base).get(o).add().get(j).add();
  f.get(N).i32(4).mul().set(nb);
  f.loop(r, ROWS, 1, () => {
    f.get(r).get(nb).mul().set(o);
    f.get(S).get(r).i32(8).mul().add().fload().set(mu);
    f.get(S).get(r).i32(8).mul().add().i32(4).add().fload().set(sigma);
    f.f32(1).get(sigma).get(EPS).fadd().fdiv().set(inv);
    f.get(mu).splat().set(mu4);
    f.vzero(accG).vzero(accGX);
    f.loop(j, nb, 16, () => {
      at(DY).vload().get(A).get(j).add().vload().vmul().set(g);
      f.get(accG).get(g).vadd().set(accG);
      f.get(accGX).get(g);
      at(X).vload().get(mu4).vsub().vmul().vadd().set(accGX);
    });
    f.hsum(accG).get(NF).fdiv().splat().set(mg4);
    // k = σ > 0 ? Σg(x−μ) · inv² / (d · σ) : 0
    f.hsum(accGX).get(inv).fmul().get(inv).fmul().get(D).get(sigma).fmul().fdiv();
    f.f32(0).get(sigma).f32(0).fgt().select().splat().set(k4);
    f.get(inv).splat().set(inv4);
    f.loop(j, nb, 16, () => {
      at(X).vload().get(mu4).vsub().set(xc);
      at(DY).vload().set(gy);
      at(DX); // address of dx
      f.get(gy).get(A).get(j).add().vload().vmul().get(mg4).vsub().get(inv4).vmul();
      f.get(xc).get(k4).vmul().vsub().vstore();
      f.get(DA).get(j).add(); // da += gy · xc · inv
      f.get(DA).get(j).add().vload().get(gy).get(xc).vmul().get(inv4).vmul().vadd().vstore();
      f.get(DB).get(j).add(); // db += gy
      f.get(DB).get(j).add().vload().get(gy).vadd().vstore();
    });
  });
  return f;
}

/** The kernels bound to `memory`, or `null` where SIMD WebAssembly is unavailable. */
export const layerNormSimdFor: (memory: WebAssembly.Memory) => LayerNormSimd | null = instantiator<
  LayerNormSimd
>(() => assemble({ ln_forward: forward(), ln_backward: backward() }));
