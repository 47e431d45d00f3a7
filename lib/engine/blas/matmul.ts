/**
 * `BatchMatMul` and `_FusedMatMul` on OpenBLAS `cblas_sgemm`, reading and
 * writing the wasm heap in place. All transpose combinations, NumPy batch
 * broadcasting, a fused bias of any broadcastable shape, and every fused
 * activation TF.js defines.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { activate, addBias, type FusedActivation, isRowVector } from "./epilogue.ts";
import { f32, heapAddress, offsetOf, type WasmBackend, type WasmKernelArgs } from "./heap.ts";
import { type MatMulPlan, planMatMul } from "./matmul_plan.ts";
import { CBLAS, type OpenBlas } from "./openblas.ts";
import { splitBatchedGemm } from "./gemm_worker.ts";

/**
 * Writes `beta·C + op(A)·op(B)` into the already allocated `out` for every
 * product of `plan`. Allocates nothing. Batches of small products are split
 * with the helper thread where that pays (`gemm_worker.ts`).
 */
function gemmAll(
  blas: OpenBlas,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  plan: MatMulPlan,
  transposeA: boolean,
  transposeB: boolean,
  beta: number,
): void {
  const { M, N, K, batch } = plan;
  if (M === 0 || N === 0 || batch === 0) return;
  if (K === 0) {
    if (beta === 0) f32(backend, out).fill(0);
    return;
  }
  const base = heapAddress(backend);
  const pa = base + offsetOf(backend, a);
  const pb = base + offsetOf(backend, b);
  const pc = base + offsetOf(backend, out);
  const transA = transposeA ? CBLAS.Trans : CBLAS.NoTrans;
  const transB = transposeB ? CBLAS.Trans : CBLAS.NoTrans;
  const lda = transposeA ? M : K, ldb = transposeB ? K : N;
  const sgemm = blas.fn.cblas_sgemm;
  // One shared right-hand matrix and an untransposed, unbroadcast A: fold the
  // batch into the rows (the Linear layer's [batch·seq, in] · W^T).
  if (plan.bBatch === 1 && !transposeA && plan.aIndex === null) {
    sgemm(CBLAS.RowMajor, transA, transB, batch * M, N, K, 1, pa, lda, pb, ldb, beta, pc, N);
    return;
  }
  const sa = M * K * 4, sb = K * N * 4, sc = M * N * 4;
  const { aIndex, bIndex } = plan;
  const job = { pa, pb, pc, M, N, K, transA, transB, lda, ldb, sa, sb, sc, beta, batch };
  // Many small products: part of them on the helper thread, where that pays.
  if (splitBatchedGemm({ ...job, aIndex, bIndex }, sgemm)) return;
  for (let i = 0; i < batch; i++) {
    const oa = pa + (aIndex ? aIndex[i] : i) * sa;
    const ob = pb + (bIndex ? bIndex[i] : i) * sb;
    sgemm(CBLAS.RowMajor, transA, transB, M, N, K, 1, oa, lda, ob, ldb, beta, pc + i * sc, N);
  }
}

function checkFloat(name: string, ...xs: (tf.TensorInfo | undefined)[]): void {
  for (const x of xs) {
    if (x && x.dtype !== "float32") {
      throw new Error(`${name} on the blas backend needs float32 inputs, got ${x.dtype}`);
    }
  }
}

/** A `BatchMatMul` kernel function on `blas`. */
export function blasBatchMatMul(blas: OpenBlas) {
  return ({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo => {
    const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    checkFloat("BatchMatMul", a, b);
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const out = backend.makeOutput(plan.outShape, "float32");
    gemmAll(blas, backend, a, b, out, plan, transposeA, transposeB, 0);
    return out;
  };
}

/** A `_FusedMatMul` kernel function on `blas`: `activation(op(a)·op(b) + bias)`. */
export function blasFusedMatMul(blas: OpenBlas) {
  return ({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo => {
    const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const prelu = inputs.preluActivationWeights as tf.TensorInfo | undefined;
    const {
      transposeA = false,
      transposeB = false,
      activation = "linear",
      leakyreluAlpha = 0.2,
    } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: FusedActivation;
      leakyreluAlpha?: number;
    };
    checkFloat("_FusedMatMul", a, b, bias, prelu);
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const out = backend.makeOutput(plan.outShape, "float32");
    // From here on nothing allocates, so views and addresses stay valid.
    let beta = 0;
    if (bias && isRowVector(bias.shape, plan.outShape) && plan.K > 0) {
      // Start C at the bias rows and let sgemm accumulate onto it.
      const c = f32(backend, out), bv = f32(backend, bias), n = plan.N;
      for (let r = 0; r < c.length; r += n) c.set(bv, r);
      beta = 1;
    }
    gemmAll(blas, backend, a, b, out, plan, transposeA, transposeB, beta);
    const c = f32(backend, out);
    if (bias && beta === 0) {
      addBias(c, plan.outShape, { data: f32(backend, bias), shape: bias.shape });
    }
    const w = prelu ? { data: f32(backend, prelu), shape: prelu.shape } : undefined;
    activate(c, plan.outShape, activation, leakyreluAlpha, w);
    return out;
  };
}
