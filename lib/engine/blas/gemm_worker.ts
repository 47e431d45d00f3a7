/**
 * A second thread for batched small products.
 *
 * OpenBLAS runs a product with `M·N·K` at most 65536·4 on the calling thread
 * alone, so a `BatchMatMul` of many small products (attention's 256 products
 * of 64×64×32 a call) leaves every other core idle. Here one persistent helper
 * thread (`gemm_worker_entry.ts`, which opens OpenBLAS itself) computes part
 * of such a batch while the main thread computes the rest: the main thread
 * writes the job (native addresses inside the wasm heap, which are valid in
 * every thread of the process; sizes, transposes, strides, broadcast indices)
 * into a `SharedArrayBuffer` and wakes the helper with `Atomics.notify`; both
 * claim chunks of products from one atomic counter; the main thread then
 * waits until the helper has finished the products it claimed (a short spin,
 * then `Atomics.wait`). The kernel allocates its output before and nothing
 * until this returns, so the addresses stay valid (`heap.ts`).
 *
 * It is **off by default**: OpenBLAS's own idle threads spin for about 0.1 s
 * after every product it threads (its `OPENBLAS_THREAD_TIMEOUT`, 2^28 cycles),
 * which in a training step is all the time, and the helper then shares the
 * second core with a spinning thread: measured on the bench model, the split
 * made the attention products 0–10% slower. With that spin cut short
 * (`OPENBLAS_THREAD_TIMEOUT=16` in the environment of the process, read when
 * OpenBLAS loads) they were 1.6× faster and the step about 3% (9–16 ms).
 * `FUSELAB_BLAS_BATCH_WORKER=1` (or {@link setBatchWorker}) switches it on.
 *
 * The helper starts when it is switched on, OpenBLAS has at least two threads
 * and the process at least two CPUs; it is a `node:worker_threads` Worker that
 * is `unref`ed, so it neither keeps a finished program alive nor counts as a
 * pending operation in `deno test`. Until it has loaded OpenBLAS, or when it
 * cannot start, products run on the main thread as before.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import {
  JOB,
  type JobBuffer,
  makeJobBuffer,
  NUM,
  runClaims,
  type Sgemm,
  SLOT,
} from "./gemm_worker_job.ts";

/** When a batch is split between the threads. */
export const BATCH_WORKER_LIMITS = {
  /** Largest `M·N·K` of one product: above it OpenBLAS already uses its own threads. */
  maxProductMNK: 65536 * 4,
  /**
   * Least work of a whole call for the split to pay, in flops plus
   * `perProduct` for each product's fixed cost: about 0.1 ms of one core, the
   * time the helper takes to wake from sleep on a 2-core VM. Measured on such a
   * machine, idle: 1.1–1.3× faster just above, 0.93–1.03× at half of it.
   */
  minWork: 5 << 19,
  /** The fixed cost of one `sgemm` call in flops (about 0.5 µs at 30 GFLOP/s). */
  perProduct: 1 << 14,
  /** Most products of a broadcast batch (the indices travel in the shared buffer). */
  capacity: 1 << 15,
};

/** One batched product on native addresses, as `gemmAll` computes it. */
export interface BatchedGemm {
  /** Native addresses of the first matrix of A, of B and of C. */
  pa: number;
  pb: number;
  pc: number;
  M: number;
  N: number;
  K: number;
  /** CBLAS transpose constants of A and B. */
  transA: number;
  transB: number;
  lda: number;
  ldb: number;
  /** Byte strides between consecutive matrices of A, B and C. */
  sa: number;
  sb: number;
  sc: number;
  beta: number;
  batch: number;
  /** For product `i`, which matrix of A / of B it reads (null: matrix `i`). */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
}

/** Counts of the split path since the program started. */
export interface BatchWorkerStats {
  /** Whether a helper is running and has loaded OpenBLAS. */
  ready: boolean;
  /** Whether the split is switched on (`setBatchWorker`, `FUSELAB_BLAS_BATCH_WORKER`). */
  enabled: boolean;
  /** Batched calls that were split (posted to the helper). */
  posted: number;
  /** Posted calls the helper took part in, and the products it computed. */
  helperJobs: number;
  helperProducts: number;
  /** Products of posted calls that the main thread computed. */
  mainProducts: number;
}

interface Helper {
  worker: Worker;
  job: JobBuffer;
  failed: boolean;
}

let helper: Helper | undefined;
/** The OpenBLAS file a helper may load, while the kernels are installed and it can run. */
let library: string | undefined;
/** The switch set by {@link setBatchWorker}; undefined: the environment decides. */
let enabled: boolean | undefined;
/** Totals of helpers already stopped (their counters lived in their buffers). */
const past = { helperJobs: 0, helperProducts: 0 };
let posted = 0, mainProducts = 0;
/** Spins on the state before sleeping in `Atomics.wait` (the helper's last chunk is short). */
const SPINS = 20000;

/** `$FUSELAB_BLAS_BATCH_WORKER`: `1` on, `0` off, else undefined (the default: off). */
function envSetting(): boolean | undefined {
  let v: string | undefined;
  try {
    v = Deno.env.get("FUSELAB_BLAS_BATCH_WORKER");
  } catch {
    return undefined;
  }
  return v === "1" ? true : v === "0" ? false : undefined;
}

function isEnabled(): boolean {
  return enabled ?? envSetting() ?? false;
}

/**
 * Switches the split on or off (tests, A/B measurements); `undefined` goes
 * back to `$FUSELAB_BLAS_BATCH_WORKER` (`1` on; off by default). Switching it
 * on while the blas kernels are installed starts the helper if none runs;
 * switching it off leaves a running helper asleep.
 */
export function setBatchWorker(on: boolean | undefined): void {
  enabled = on;
  if (isEnabled() && library && !(helper && !helper.failed)) launch(library);
}

/** The split path's counters; see {@link BatchWorkerStats}. */
export function batchWorkerStats(): BatchWorkerStats {
  const c = helper?.job.ctrl;
  return {
    ready: helperReady(),
    enabled: isEnabled(),
    posted,
    helperJobs: past.helperJobs + (c ? Atomics.load(c, SLOT.helperJobs) : 0),
    helperProducts: past.helperProducts + (c ? Atomics.load(c, SLOT.helperProducts) : 0),
    mainProducts,
  };
}

function helperReady(): boolean {
  return helper !== undefined && !helper.failed && Atomics.load(helper.job.ctrl, SLOT.ready) === 1;
}

/** Why a helper cannot run here, or undefined when it can. */
function unavailable(threads: number, entry: URL): string | undefined {
  if (threads < 2) return `OpenBLAS has ${threads} thread`;
  if ((navigator.hardwareConcurrency || 1) < 2) return "one CPU";
  // A worker whose module cannot be read fails later, as an unhandled rejection.
  if (entry.protocol !== "file:") return `its module is not a local file (${entry.protocol})`;
  try {
    if (Deno.permissions.querySync({ name: "read", path: entry }).state !== "granted") {
      return "no read permission for its module";
    }
    // Throws where the main thread may not block (a browser's main thread).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

const ENTRY = new URL("./gemm_worker_entry.ts", import.meta.url);

/** Starts a helper that loads OpenBLAS from `path`; "on", or "off (why)". */
function launch(path: string): string {
  const job = makeJobBuffer(BATCH_WORKER_LIMITS.capacity);
  let worker: Worker;
  try {
    worker = new Worker(ENTRY, { workerData: { sab: job.sab, path } });
  } catch (e) {
    return `off (${(e as Error).message})`;
  }
  const h: Helper = { worker, job, failed: false };
  const fail = () => {
    h.failed = true;
    Atomics.store(job.ctrl, SLOT.ready, -1);
  };
  worker.on("error", fail);
  worker.on("exit", fail);
  // Neither keeps a finished program alive nor counts as a pending operation.
  worker.unref();
  helper = h;
  return "on";
}

/**
 * Called by `installBlasKernels` with the OpenBLAS it loaded (`path`) and its
 * thread count: starts the helper thread when the split is switched on and
 * can run here, and otherwise remembers whether a later `setBatchWorker(true)`
 * may start it. Returns the backend detail: "on", or "off (why)".
 */
export function startBatchWorker(path: string, threads: number): string {
  library = undefined;
  const why = unavailable(threads, ENTRY);
  if (why) return `off (${why})`;
  library = path;
  if (helper && !helper.failed) return "on";
  if (!isEnabled()) {
    if (enabled === false) return "off (setBatchWorker(false))";
    return envSetting() === false
      ? "off (FUSELAB_BLAS_BATCH_WORKER=0)"
      : "off (by default; FUSELAB_BLAS_BATCH_WORKER=1 turns it on)";
  }
  return launch(path);
}

/**
 * Stops the helper thread (if any) until the next {@link startBatchWorker}.
 * Called by `uninstallBlasKernels`.
 */
export function stopBatchWorker(): void {
  library = undefined;
  const h = helper;
  if (!h) return;
  helper = undefined;
  const c = h.job.ctrl;
  past.helperJobs += Atomics.load(c, SLOT.helperJobs);
  past.helperProducts += Atomics.load(c, SLOT.helperProducts);
  // Wakes the helper to leave its loop; no job is in flight between kernels.
  Atomics.store(c, SLOT.state, JOB.stop);
  Atomics.notify(c, SLOT.state);
  h.worker.terminate().catch(() => {});
}

/**
 * Resolves true once the helper has loaded OpenBLAS, false when there is none,
 * it failed, or `timeoutMs` passed (for tests and measurements: kernels never
 * wait for it).
 */
export async function batchWorkerReady(timeoutMs = 10000): Promise<boolean> {
  const t0 = performance.now();
  while (helper && !helper.failed && performance.now() - t0 < timeoutMs) {
    if (helperReady()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return helperReady();
}

/** Whether {@link splitBatchedGemm} would split a batch of `batch` products of M×N×K. */
export function splitPays(M: number, N: number, K: number, batch: number): boolean {
  const mnk = M * N * K, lim = BATCH_WORKER_LIMITS;
  return batch >= 2 && mnk <= lim.maxProductMNK &&
    (2 * mnk + lim.perProduct) * batch >= lim.minWork;
}

/**
 * Computes `g` on the main thread and the helper together and returns true,
 * or returns false (computing nothing) when the split is off, the helper is
 * not ready, or the batch is too small to pay ({@link splitPays}) or too
 * large a broadcast. Allocates nothing in the wasm heap; returns only when
 * every product is written.
 */
export function splitBatchedGemm(g: BatchedGemm, sgemm: Sgemm): boolean {
  if (!helper || !isEnabled() || !helperReady()) return false;
  if (!splitPays(g.M, g.N, g.K, g.batch)) return false;
  const { ctrl, num, capacity } = helper.job;
  if ((g.aIndex || g.bIndex) && g.batch > capacity) return false;
  ctrl[SLOT.batch] = g.batch;
  ctrl[SLOT.M] = g.M;
  ctrl[SLOT.N] = g.N;
  ctrl[SLOT.K] = g.K;
  ctrl[SLOT.transA] = g.transA;
  ctrl[SLOT.transB] = g.transB;
  ctrl[SLOT.lda] = g.lda;
  ctrl[SLOT.ldb] = g.ldb;
  ctrl[SLOT.aMode] = g.aIndex ? 1 : 0;
  ctrl[SLOT.bMode] = g.bIndex ? 1 : 0;
  if (g.aIndex) helper.job.aIndex.set(g.aIndex);
  if (g.bIndex) helper.job.bIndex.set(g.bIndex);
  // Chunks of about 128 kflop, and at least 16 of them.
  const flops = 2 * g.M * g.N * g.K;
  ctrl[SLOT.chunk] = Math.max(1, Math.min(Math.floor(131072 / flops), g.batch >> 4));
  num[NUM.pa] = g.pa;
  num[NUM.pb] = g.pb;
  num[NUM.pc] = g.pc;
  num[NUM.sa] = g.sa;
  num[NUM.sb] = g.sb;
  num[NUM.sc] = g.sc;
  num[NUM.beta] = g.beta;
  Atomics.store(ctrl, SLOT.next, 0);
  // The sequentially consistent store publishes every write above to the helper.
  Atomics.store(ctrl, SLOT.state, JOB.posted);
  Atomics.notify(ctrl, SLOT.state, 1);
  posted++;
  mainProducts += runClaims(helper.job, sgemm);
  // All products are claimed now. Withdraw the job if the helper never took it;
  // otherwise wait for the products it claimed.
  if (Atomics.compareExchange(ctrl, SLOT.state, JOB.posted, JOB.idle) !== JOB.posted) {
    for (let spin = 0; Atomics.load(ctrl, SLOT.state) === JOB.running; spin++) {
      if (spin >= SPINS) Atomics.wait(ctrl, SLOT.state, JOB.running);
    }
    Atomics.store(ctrl, SLOT.state, JOB.idle);
  }
  return true;
}
