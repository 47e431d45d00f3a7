/**
 * The floor the matrix products put under a training step: every product of
 * one bench step, as `sgemm` sees it, timed alone on OpenBLAS at its best
 * (back to back on warm buffers). fuselab and PyTorch call the same library
 * for the same products, so no step of either can take less than this, and
 * the ratio the issue asks for is bounded by it: a step at 0.7 × PyTorch's
 * must fit everything else (embeddings, norms, softmax, loss, Adam, the
 * engine) into what is left.
 *
 * @module
 */
import type { OpenBlas } from "../lib/engine/blas/openblas.ts";
import { CBLAS } from "../lib/engine/blas/openblas.ts";
import { nativeAddress } from "../lib/engine/blas/heap.ts";
import type { BenchShape } from "./model.ts";

/** One kind of product in a step: `count` calls of op(A)[m, k] · op(B)[k, n]. */
export interface Product {
  /** Where it comes from, e.g. "W_1 forward". */
  label: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  count: number;
}

/** "NT 2048×256×256": transposes and m×n×k, the key products are compared by. */
export function productKey(p: Pick<Product, "transA" | "transB" | "m" | "n" | "k">): string {
  return `${p.transA ? "T" : "N"}${p.transB ? "T" : "N"} ${p.m}×${p.n}×${p.k}`;
}

/**
 * A Linear layer (y = x Wᵀ + b, W [out, in]) on `rows` rows: the forward
 * product, the input gradient ∂y·W and the weight gradient ∂yᵀ·x.
 */
function linear(label: string, rows: number, inF: number, outF: number, count: number) {
  return [
    { label: `${label} forward`, transA: false, transB: true, m: rows, n: outF, k: inF, count },
    { label: `${label} ∂x`, transA: false, transB: false, m: rows, n: inF, k: outF, count },
    { label: `${label} ∂W`, transA: true, transB: false, m: outF, n: inF, k: rows, count },
  ];
}

/**
 * Every matrix product of one training step of the bench model (forward and
 * backward), merged by kind. Attention's products are per batch element and
 * head: S = Q·Kᵀ, O = P·V forward; ∂P = ∂O·Vᵀ, ∂V = Pᵀ·∂O, ∂Q = ∂S·K,
 * ∂K = ∂Sᵀ·Q backward.
 */
export function stepProducts(s: BenchShape): Product[] {
  const rows = s.batch * s.seq, t = s.seq, dk = s.dModel / s.heads;
  const heads = s.layers * s.batch * s.heads;
  const list: Product[] = [
    ...linear("W^Q, W^K, W^V, W^O", rows, s.dModel, s.dModel, 4 * s.layers),
    ...linear("W_1", rows, s.dModel, s.dFF, s.layers),
    ...linear("W_2", rows, s.dFF, s.dModel, s.layers),
    ...linear("generator", rows, s.dModel, s.vocab, 1),
    { label: "Q·Kᵀ, ∂O·Vᵀ", transA: false, transB: true, m: t, n: t, k: dk, count: 2 * heads },
    { label: "P·V, ∂S·K", transA: false, transB: false, m: t, n: dk, k: t, count: 2 * heads },
    { label: "Pᵀ·∂O, ∂Sᵀ·Q", transA: true, transB: false, m: t, n: dk, k: t, count: 2 * heads },
  ];
  const merged = new Map<string, Product>();
  for (const p of list) {
    const key = productKey(p);
    const had = merged.get(key);
    if (had) {
      merged.set(key, { ...had, label: `${had.label}; ${p.label}`, count: had.count + p.count });
    } else merged.set(key, { ...p });
  }
  return [...merged.values()];
}

/** Floating-point operations of `products` (2·m·n·k a call). */
export function productFlops(products: Product[]): number {
  return products.reduce((s, p) => s + 2 * p.m * p.n * p.k * p.count, 0);
}

/** A product kind with its best time for all its calls. */
export interface TimedProduct extends Product {
  /** Milliseconds for all `count` calls, the best of the rounds. */
  ms: number;
}

/**
 * Times each kind of product on `blas` at its current thread count: its
 * `count` calls back to back on the same (warm) buffers, `rounds` times after
 * one warm-up round, keeping the best round.
 */
export function timeProducts(blas: OpenBlas, products: Product[], rounds = 3): TimedProduct[] {
  return products.map((p) => {
    const a = new Float32Array(p.m * p.k).map((_, i) => ((i * 7919) % 997) / 997 - 0.5);
    const b = new Float32Array(p.k * p.n).map((_, i) => ((i * 104729) % 991) / 991 - 0.5);
    const c = new Float32Array(p.m * p.n);
    const ta = p.transA ? CBLAS.Trans : CBLAS.NoTrans, tb = p.transB ? CBLAS.Trans : CBLAS.NoTrans;
    const lda = p.transA ? p.m : p.k, ldb = p.transB ? p.k : p.n;
    const round = () => {
      // Addresses taken here, where a, b and c are alive for the whole round.
      const pa = nativeAddress(a), pb = nativeAddress(b), pc = nativeAddress(c);
      const t0 = performance.now();
      for (let i = 0; i < p.count; i++) {
        blas.fn.cblas_sgemm(CBLAS.RowMajor, ta, tb, p.m, p.n, p.k, 1, pa, lda, pb, ldb, 0, pc, p.n);
      }
      return performance.now() - t0;
    };
    round();
    let ms = Infinity;
    for (let r = 0; r < rounds; r++) ms = Math.min(ms, round());
    return { ...p, ms };
  });
}
