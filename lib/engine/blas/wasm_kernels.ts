/**
 * Kernels the stock TF.js wasm backend lacks or gets wrong, registered from
 * user code through TF.js's kernel registry (no edits to installed packages).
 * They apply to the plain `wasm` backend and, under the OpenBLAS kernels, to
 * `blas` too.
 *
 * - `UnsortedSegmentSum` (the gradient of `gather`): missing in wasm.
 * - `BatchMatMul`: the stock kernel sizes its output by the larger operand's
 *   batch, so general batch broadcasting (`[2,1,m,k]·[1,3,k,n]`) reads past
 *   the output (garbage or NaN). Here such operands are expanded to the
 *   broadcast batch first. It is also 10–20× slower with a transposed
 *   operand than without, so operands are transposed explicitly first.
 * - `_FusedMatMul`: the stock kernel adds the bias at wrong positions when
 *   the operands are batched. Here it is the matmul above, then the bias and
 *   activation done on the output in place.
 * - `Cast` to bool: the stock kernel truncates to a byte instead of testing
 *   `x != 0` (see `cast.ts`, which also shares data for same-dtype casts).
 * - The gradient of `BatchMatMul` with broadcast batches (TF.js returns it
 *   unreduced and then rejects it): see `matmul_grad.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { castKernel } from "./cast.ts";
import { activate, addBias, type FusedActivation } from "./epilogue.ts";
import { f32, sizeOf, type WasmBackend, type WasmKernelArgs } from "./heap.ts";
import { batchMatMulGrad } from "./matmul_grad.ts";
import { planMatMul } from "./matmul_plan.ts";
import { currentKernel, replaceKernel, type WasmKernelFunc } from "./registry.ts";

/**
 * `UnsortedSegmentSum`: out[segmentIds[i], ...] += data[i, ...].
 * Needed by the gradient of `gather` (embedding lookups); wasm has none.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  const segmentIds = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const rows = ids.length;
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  // Read the input only after allocating: allocation may grow the heap.
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const seg = ids[r];
    if (seg < 0 || seg >= numSegments) continue;
    const so = r * inner;
    const dO = seg * inner;
    for (let k = 0; k < inner; k++) dst[dO + k] += src[so + k];
  }
  return out;
}

/**
 * Copies the matrices of `x` (shape `[..., r, c]`) chosen by `index` into a
 * new `[index.length, r, c]` tensor.
 */
function expandBatch(backend: WasmBackend, x: tf.TensorInfo, index: Int32Array): tf.TensorInfo {
  const r = x.shape[x.shape.length - 2], c = x.shape[x.shape.length - 1];
  const out = backend.makeOutput([index.length, r, c], x.dtype);
  const src = f32(backend, x), dst = f32(backend, out), m = r * c;
  for (let i = 0; i < index.length; i++) {
    dst.set(src.subarray(index[i] * m, index[i] * m + m), i * m);
  }
  return out;
}

/**
 * BatchMatMul that broadcasts batches correctly, computing with `stock`.
 * Transposed operands are transposed explicitly first (`transpose`): the
 * stock kernel multiplies 10–20× slower when asked to transpose.
 */
function fixedBatchMatMul(stock: WasmKernelFunc, transpose: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
    const { transposeA = false, transposeB = false } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    if (sizeOf(plan.outShape) === 0) return backend.makeOutput(plan.outShape, "float32");
    if (plan.K === 0) {
      // XNNPACK refuses an empty inner dimension: the product is zeros.
      const out = backend.makeOutput(plan.outShape, "float32");
      f32(backend, out).fill(0);
      return out;
    }
    const temps: tf.TensorInfo[] = [];
    // As [batch, rows, cols]: the stock kernel broadcasts only flat batches.
    let a3: tf.TensorInfo = { ...a, shape: [plan.aBatch, ...a.shape.slice(-2)] };
    let b3: tf.TensorInfo = { ...b, shape: [plan.bBatch, ...b.shape.slice(-2)] };
    const perm = [0, 2, 1];
    if (transposeA) temps.push(a3 = transpose({ inputs: { x: a3 }, backend, attrs: { perm } }));
    if (transposeB) temps.push(b3 = transpose({ inputs: { x: b3 }, backend, attrs: { perm } }));
    // The stock kernel is right when one side is unbatched or both have the same batch.
    if (plan.aIndex && plan.aBatch > 1) temps.push(a3 = expandBatch(backend, a3, plan.aIndex));
    if (plan.bIndex && plan.bBatch > 1) temps.push(b3 = expandBatch(backend, b3, plan.bIndex));
    const out = stock({
      inputs: { a: a3, b: b3 },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    for (const t of temps) backend.disposeData(t.dataId);
    out.shape = plan.outShape;
    return out;
  };
}

/** _FusedMatMul as (fixed) BatchMatMul, then bias and activation in place. */
function fixedFusedMatMul(matMul: WasmKernelFunc): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const prelu = inputs.preluActivationWeights as tf.TensorInfo | undefined;
    const { transposeA = false, transposeB = false, activation = "linear", leakyreluAlpha = 0.2 } =
      (attrs ?? {}) as {
        transposeA?: boolean;
        transposeB?: boolean;
        activation?: FusedActivation;
        leakyreluAlpha?: number;
      };
    const out = matMul({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
    // Nothing allocates below: the views stay valid.
    const y = f32(backend, out);
    if (bias) addBias(y, out.shape, { data: f32(backend, bias), shape: bias.shape });
    const w = prelu ? { data: f32(backend, prelu), shape: prelu.shape } : undefined;
    activate(y, out.shape, activation, leakyreluAlpha, w);
    return out;
  };
}

let registered = false;

/**
 * Registers the kernels wasm lacks for training and the fixed matmuls.
 * Call after `@tensorflow/tfjs-backend-wasm` is imported and before the
 * backend is initialised. Idempotent.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel("UnsortedSegmentSum", "wasm")) {
    tf.registerKernel({
      kernelName: "UnsortedSegmentSum",
      backendName: "wasm",
      kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    });
  }
  const matMul = fixedBatchMatMul(currentKernel("BatchMatMul"), currentKernel("Transpose"));
  replaceKernel("BatchMatMul", matMul);
  replaceKernel("_FusedMatMul", fixedFusedMatMul(matMul));
  replaceKernel("Cast", castKernel(currentKernel("Cast")));
  tf.registerGradient(batchMatMulGrad);
}
