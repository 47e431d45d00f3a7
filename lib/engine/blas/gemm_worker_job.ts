/**
 * The shared-memory job of the batched-product helper thread
 * (`gemm_worker.ts`), and the loop that both threads run on it.
 *
 * One `SharedArrayBuffer` holds a control block of `Int32` slots, the
 * job's native addresses and strides as `Float64` (exact for any user-space
 * address), and the per-product matrix indices of broadcast batches. The main
 * thread writes a job and posts it; both threads then claim chunks of
 * products from one atomic counter until none is left, so the split follows
 * whichever thread gets the CPU (a descheduled helper just takes fewer).
 *
 * @module
 */
import type { BlasFunctions } from "./openblas.ts";

/** Slots of the control block (`Int32Array` indices). */
export const SLOT = {
  /** The job's state: one of {@link JOB}. */
  state: 0,
  /** 0 while the helper starts, 1 once it has loaded OpenBLAS, -1 if it failed. */
  ready: 1,
  /** The next product index to claim (`Atomics.add` by `chunk`). */
  next: 2,
  batch: 3,
  M: 4,
  N: 5,
  K: 6,
  transA: 7,
  transB: 8,
  lda: 9,
  ldb: 10,
  /** 1: product `i` reads matrix `aIndex[i]` of A; 0: matrix `i`. */
  aMode: 11,
  bMode: 12,
  chunk: 13,
  /** Jobs the helper took part in, and products it computed (running totals). */
  helperJobs: 14,
  helperProducts: 15,
  /** Scratch slot for probing `Atomics.wait`. */
  probe: 16,
} as const;

/** Values of the state slot. */
export const JOB = {
  /** No job: the helper sleeps. */
  idle: 0,
  /** A job is written and may be taken by the helper. */
  posted: 1,
  /** The helper took the job and is claiming products. */
  running: 2,
  /** The helper has finished its products of the job. */
  done: 3,
  /** The helper is to exit. */
  stop: 4,
} as const;

/** Slots of the `Float64` part: native addresses, byte strides, beta. */
export const NUM = { pa: 0, pb: 1, pc: 2, sa: 3, sb: 4, sc: 5, beta: 6 } as const;

const CTRL_INTS = 32;
const NUM_DOUBLES = 16;
const NUM_OFFSET = CTRL_INTS * 4;
const IDX_OFFSET = NUM_OFFSET + NUM_DOUBLES * 8;

/** The typed views of one job buffer. */
export interface JobBuffer {
  sab: SharedArrayBuffer;
  ctrl: Int32Array;
  num: Float64Array;
  /** Matrix of A (and of B) that product `i` reads, for broadcast batches. */
  aIndex: Int32Array;
  bIndex: Int32Array;
  /** How many indices each of `aIndex` and `bIndex` holds. */
  capacity: number;
}

/** Allocates a job buffer with room for `capacity` broadcast indices per operand. */
export function makeJobBuffer(capacity: number): JobBuffer {
  return jobViews(new SharedArrayBuffer(IDX_OFFSET + 2 * capacity * 4));
}

/** The views of a job buffer made by {@link makeJobBuffer} (in the helper thread). */
export function jobViews(sab: SharedArrayBuffer): JobBuffer {
  const capacity = (sab.byteLength - IDX_OFFSET) / 8;
  return {
    sab,
    ctrl: new Int32Array(sab, 0, CTRL_INTS),
    num: new Float64Array(sab, NUM_OFFSET, NUM_DOUBLES),
    aIndex: new Int32Array(sab, IDX_OFFSET, capacity),
    bIndex: new Int32Array(sab, IDX_OFFSET + capacity * 4, capacity),
    capacity,
  };
}

/** The `cblas_sgemm` signature the loop calls (addresses as numbers). */
export type Sgemm = BlasFunctions["cblas_sgemm"];

/** `CblasRowMajor`. */
const ROW_MAJOR = 101;

/**
 * Claims chunks of the posted job's products and runs them until none is
 * left; returns how many this thread computed. Both threads call it on the
 * same job, and each product is claimed exactly once.
 */
export function runClaims(job: JobBuffer, sgemm: Sgemm): number {
  const { ctrl, num, aIndex, bIndex } = job;
  const batch = ctrl[SLOT.batch], M = ctrl[SLOT.M], N = ctrl[SLOT.N], K = ctrl[SLOT.K];
  const ta = ctrl[SLOT.transA], tb = ctrl[SLOT.transB];
  const lda = ctrl[SLOT.lda], ldb = ctrl[SLOT.ldb], chunk = ctrl[SLOT.chunk];
  const aList = ctrl[SLOT.aMode] === 1, bList = ctrl[SLOT.bMode] === 1;
  const pa = num[NUM.pa], pb = num[NUM.pb], pc = num[NUM.pc];
  const sa = num[NUM.sa], sb = num[NUM.sb], sc = num[NUM.sc], beta = num[NUM.beta];
  let done = 0;
  for (;;) {
    const lo = Atomics.add(ctrl, SLOT.next, chunk);
    if (lo >= batch) return done;
    const hi = Math.min(lo + chunk, batch);
    for (let i = lo; i < hi; i++) {
      const oa = pa + (aList ? aIndex[i] : i) * sa;
      const ob = pb + (bList ? bIndex[i] : i) * sb;
      sgemm(ROW_MAJOR, ta, tb, M, N, K, 1, oa, lda, ob, ldb, beta, pc + i * sc, N);
    }
    done += hi - lo;
  }
}
