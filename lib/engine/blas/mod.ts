/**
 * The OpenBLAS-accelerated wasm backend ("blas").
 *
 * The TF.js wasm backend with its hottest kernels replaced through the kernel
 * registry: matmuls by OpenBLAS `cblas_sgemm` working on the wasm heap in
 * place, `Sum` over leading/trailing axes by `cblas_sgemv`, 2-D `Transpose`
 * by `cblas_somatcopy`, `Identity` by data sharing, and `Tile` and `GatherV2`
 * by block copies. Everything else is the stock wasm backend (with the
 * correctness fixes of `./wasm_kernels.ts`). Optionally, batches of small
 * products are split with a helper thread (`gemm_worker.ts`, off by default).
 * See docs/performance.md.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { sharedIdentity } from "./identity.ts";
import { blasBatchMatMul, blasFusedMatMul } from "./matmul.ts";
import { loadOpenBlas, type OpenBlas } from "./openblas.ts";
import { currentKernel, replacedCount, replaceKernel, restoreKernels } from "./registry.ts";
import { blasSum } from "./sum.ts";
import { tileKernel } from "./tile.ts";
import { transposeKernel } from "./transpose.ts";
import { gatherKernel } from "./gather.ts";
import { startBatchWorker, stopBatchWorker } from "./gemm_worker.ts";

export { loadOpenBlas, type OpenBlas, openBlasCandidates } from "./openblas.ts";
export { planMatMul } from "./matmul_plan.ts";
export { tileInto } from "./tile.ts";
export { type AdamStepConstants, fusedAdamUpdate } from "./fused_adam.ts";
export { type AdamSimd, adamSimdFor, adamSimdModule } from "./adam_simd.ts";
export {
  batchWorkerReady,
  type BatchWorkerStats,
  batchWorkerStats,
  setBatchWorker,
} from "./gemm_worker.ts";

/** Result of trying to install the OpenBLAS kernels. */
export interface BlasInstall {
  ok: boolean;
  why: string;
  details?: Record<string, string>;
}

/** Options of {@link installBlasKernels}. */
export interface BlasOptions {
  /** OpenBLAS threads (default: {@link defaultThreads}). */
  threads?: number;
  /** Path of libopenblas (default `$FUSELAB_OPENBLAS`, then the usual places). */
  path?: string;
}

/** The kernels the blas backend replaces on wasm. */
export const BLAS_KERNELS = [
  "BatchMatMul",
  "_FusedMatMul",
  "Identity",
  "Tile",
  "Sum",
  "Transpose",
  "GatherV2",
] as const;

let installed: { blas: OpenBlas; mark: number; result: BlasInstall } | undefined;
/** Loaded libraries, kept open: unloading OpenBLAS while its thread pool runs is not safe. */
const loaded = new Map<string, OpenBlas>();

/**
 * `$FUSELAB_BLAS_THREADS`, else the CPUs a Slurm allocation gives this task
 * (`$SLURM_CPUS_PER_TASK`: the node may have many more), else every CPU.
 */
export function defaultThreads(): number {
  for (const name of ["FUSELAB_BLAS_THREADS", "SLURM_CPUS_PER_TASK"]) {
    const n = Number(Deno.env.get(name));
    if (Number.isInteger(n) && n > 0) return n;
  }
  return navigator.hardwareConcurrency || 1;
}

/**
 * Installs the OpenBLAS kernels on the wasm backend (which must already be
 * registered), when OpenBLAS loads. Idempotent. Returns `ok: false` with the
 * reason, and changes nothing, when it cannot load.
 */
export function installBlasKernels(opts: BlasOptions = {}): Promise<BlasInstall> {
  if (installed) return Promise.resolve(installed.result);
  let blas: OpenBlas;
  try {
    const key = `${opts.path ?? ""}|${Deno.env.get("FUSELAB_OPENBLAS") ?? ""}`;
    blas = loaded.get(key) ?? loadOpenBlas(opts.path);
    loaded.set(key, blas);
  } catch (e) {
    const msg = (e as Error).message;
    const why = msg.includes("--allow-ffi") || e instanceof Deno.errors.NotCapable ||
        e instanceof Deno.errors.PermissionDenied
      ? `OpenBLAS needs the --allow-ffi permission (${msg.split("\n")[0]})`
      : msg;
    return Promise.resolve({ ok: false, why });
  }
  const threads = opts.threads ?? defaultThreads();
  blas.setThreads(threads);
  const mark = replacedCount();
  replaceKernel("BatchMatMul", blasBatchMatMul(blas));
  replaceKernel("_FusedMatMul", blasFusedMatMul(blas));
  replaceKernel("Identity", sharedIdentity(currentKernel("Identity")));
  replaceKernel("Tile", tileKernel(currentKernel("Tile")));
  replaceKernel("Sum", blasSum(blas, currentKernel("Sum")));
  replaceKernel("Transpose", transposeKernel(currentKernel("Transpose"), blas));
  replaceKernel("GatherV2", gatherKernel(currentKernel("GatherV2")));
  // A helper thread for batches of small products (OpenBLAS runs each on one thread).
  const batchWorker = startBatchWorker(blas.path, blas.threads());
  const result: BlasInstall = {
    ok: true,
    why: `wasm with OpenBLAS kernels (${blas.path}, ${blas.threads()} threads)`,
    details: { openblas: blas.config, blasThreads: String(blas.threads()), batchWorker },
  };
  installed = { blas, mark, result };
  return Promise.resolve(result);
}

/**
 * Puts the wasm backend's previous kernels back (plain wasm again) and stops
 * the batched-product helper thread. Tensors stay valid; OpenBLAS stays loaded
 * for a later install.
 */
export function uninstallBlasKernels(): void {
  if (!installed) return;
  restoreKernels(installed.mark);
  stopBatchWorker();
  installed = undefined;
}

/** Whether the OpenBLAS kernels are installed now. */
export function blasInstalled(): boolean {
  return installed !== undefined && tf.getKernel("BatchMatMul", "wasm") !== undefined;
}
export { softmaxCrossEntropy, type XentReduction } from "./softmax_xent.ts";
