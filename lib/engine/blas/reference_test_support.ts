/**
 * Float64 reference implementations used by the kernel tests: a batched,
 * broadcasting, transposing matmul and its gradients, sums and tiles.
 *
 * @module
 */
import { broadcastIndex, sizeOf, stridesOf } from "./heap.ts";
import { planMatMul } from "./matmul_plan.ts";

/** A deterministic pseudo-random array in [-1, 1). */
export function randomData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

function at(x: ArrayLike<number>, base: number, r: number, c: number, cols: number): number {
  return x[base + r * cols + c];
}

/** `op(A)·op(B)` with batch broadcasting, in float64. */
export function refMatMul(
  aShape: number[],
  a: ArrayLike<number>,
  bShape: number[],
  b: ArrayLike<number>,
  ta: boolean,
  tb: boolean,
): { shape: number[]; data: Float64Array } {
  const p = planMatMul(aShape, bShape, ta, tb);
  const { M, N, K } = p;
  const out = new Float64Array(sizeOf(p.outShape));
  const aCols = ta ? M : K, bCols = tb ? K : N;
  for (let i = 0; i < p.batch; i++) {
    const ab = (p.aIndex ? p.aIndex[i] : i) * M * K, bb = (p.bIndex ? p.bIndex[i] : i) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? at(a, ab, k, m, aCols) : at(a, ab, m, k, aCols);
          const bv = tb ? at(b, bb, n, k, bCols) : at(b, bb, k, n, bCols);
          s += av * bv;
        }
        out[i * M * N + m * N + n] = s;
      }
    }
  }
  return { shape: p.outShape, data: out };
}

/** Gradients of `sum(G ⊙ op(A)·op(B))` with respect to `A` and `B`, in float64. */
export function refMatMulGrads(
  aShape: number[],
  a: ArrayLike<number>,
  bShape: number[],
  b: ArrayLike<number>,
  ta: boolean,
  tb: boolean,
  g: ArrayLike<number>,
): { da: Float64Array; db: Float64Array } {
  const p = planMatMul(aShape, bShape, ta, tb);
  const { M, N, K } = p;
  const da = new Float64Array(sizeOf(aShape)), db = new Float64Array(sizeOf(bShape));
  const aCols = ta ? M : K, bCols = tb ? K : N;
  for (let i = 0; i < p.batch; i++) {
    const ab = (p.aIndex ? p.aIndex[i] : i) * M * K, bb = (p.bIndex ? p.bIndex[i] : i) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const gv = g[i * M * N + m * N + n];
        for (let k = 0; k < K; k++) {
          const ai = ta ? ab + k * aCols + m : ab + m * aCols + k;
          const bi = tb ? bb + n * bCols + k : bb + k * bCols + n;
          da[ai] += gv * b[bi];
          db[bi] += gv * a[ai];
        }
      }
    }
  }
  return { da, db };
}

/** `x + y` broadcast to `outShape`, in float64. */
export function refAddBroadcast(
  outShape: number[],
  x: ArrayLike<number>,
  yShape: number[],
  y: ArrayLike<number>,
): Float64Array {
  const idx = broadcastIndex(outShape, yShape);
  const out = new Float64Array(sizeOf(outShape));
  for (let i = 0; i < out.length; i++) out[i] = x[i] + y[idx[i]];
  return out;
}

/** Sum of `x` over `axes`, keeping them as size 1. */
export function refSum(shape: number[], x: ArrayLike<number>, axes: number[]): Float64Array {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(sizeOf(outShape));
  const os = stridesOf(outShape), xs = stridesOf(shape);
  for (let f = 0; f < x.length; f++) {
    let o = 0;
    for (let ax = 0; ax < shape.length; ax++) {
      const c = Math.floor(f / xs[ax]) % shape[ax];
      if (!axes.includes(ax)) o += c * os[ax];
    }
    out[o] += x[f];
  }
  return out;
}

/** `x` tiled `reps` times along each axis. */
export function refTile(shape: number[], x: ArrayLike<number>, reps: number[]): number[] {
  const outShape = shape.map((d, i) => d * reps[i]);
  const n = sizeOf(outShape), os = stridesOf(outShape), xs = stridesOf(shape);
  const out = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    let src = 0;
    for (let ax = 0; ax < shape.length; ax++) {
      src += (Math.floor(f / os[ax]) % outShape[ax] % shape[ax]) * xs[ax];
    }
    out[f] = x[src];
  }
  return out;
}

/** Largest |x − y|, counting NaN or a length mismatch as Infinity. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let d = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i] - y[i]);
    if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
  }
  return d;
}
