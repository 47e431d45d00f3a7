/**
 * The helper thread of `gemm_worker.ts` (a `node:worker_threads` Worker).
 *
 * It opens OpenBLAS itself (the file the main thread loaded, passed in
 * `workerData`), reports ready in the job buffer, then sleeps in
 * `Atomics.wait` until the main thread posts a batched product: it takes the
 * job (posted → running), claims and computes products on the native
 * addresses the main thread wrote, and marks it done. It never returns to its
 * event loop while it serves, so it takes no messages: everything goes
 * through the shared buffer, and `JOB.stop` ends it.
 *
 * @module
 */
import { workerData } from "node:worker_threads";
import { JOB, jobViews, runClaims, SLOT } from "./gemm_worker_job.ts";
import { loadOpenBlas, type OpenBlas } from "./openblas.ts";

const { sab, path } = workerData as { sab: SharedArrayBuffer; path: string };
const job = jobViews(sab);
const ctrl = job.ctrl;

let blas: OpenBlas | undefined;
try {
  blas = loadOpenBlas(path);
} catch (e) {
  console.warn(`fuselab: batched-product helper thread off: ${(e as Error).message}`);
}

if (!blas) {
  Atomics.store(ctrl, SLOT.ready, -1);
} else {
  const sgemm = blas.fn.cblas_sgemm;
  Atomics.store(ctrl, SLOT.ready, 1);
  for (;;) {
    const s = Atomics.load(ctrl, SLOT.state);
    if (s === JOB.stop) break;
    if (s === JOB.posted && Atomics.compareExchange(ctrl, SLOT.state, s, JOB.running) === s) {
      const n = runClaims(job, sgemm);
      Atomics.add(ctrl, SLOT.helperJobs, 1);
      Atomics.add(ctrl, SLOT.helperProducts, n);
      Atomics.store(ctrl, SLOT.state, JOB.done);
      Atomics.notify(ctrl, SLOT.state);
      continue;
    }
    // Sleeps until the main thread changes the state and notifies (posts or stops).
    Atomics.wait(ctrl, SLOT.state, s);
  }
  // Drops this thread's handle only: the main thread keeps the library loaded.
  blas.close();
}
