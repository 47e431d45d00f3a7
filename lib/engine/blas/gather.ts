/**
 * `GatherV2` (embedding lookups) by slice copies: for each outer index and
 * each index value, one contiguous slice of the input is copied. The stock
 * wasm kernel computes every element's address separately. Batched gathers
 * (`batchDims > 0`) go to the stock kernel.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { sizeOf, view, type WasmKernelArgs } from "./heap.ts";

/** The `GatherV2` kernel function. */
export function gatherKernel(
  fallback: (args: WasmKernelArgs) => tf.TensorInfo,
): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo, indices = args.inputs.indices as tf.TensorInfo;
    const { axis = 0, batchDims = 0 } = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    if (batchDims !== 0 || x.dtype === "string" || indices.dtype !== "int32") return fallback(args);
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const dim = x.shape[ax];
    const outer = sizeOf(x.shape.slice(0, ax)), slice = sizeOf(x.shape.slice(ax + 1));
    const ids = view(args.backend, indices) as Int32Array;
    for (let j = 0; j < ids.length; j++) {
      const v = ids[j];
      if (!(v >= 0 && v < dim)) {
        throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
      }
    }
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = args.backend.makeOutput(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return out;
    // Views only after the allocation (it may grow the heap).
    const src = view(args.backend, x), dst = view(args.backend, out);
    const idx = view(args.backend, indices) as Int32Array, n = idx.length;
    let o = 0;
    for (let b = 0; b < outer; b++) {
      const base = b * dim * slice;
      for (let j = 0; j < n; j++, o += slice) {
        const s = base + idx[j] * slice;
        if (slice >= 32) dst.set(src.subarray(s, s + slice), o);
        else for (let k = 0; k < slice; k++) dst[o + k] = src[s + k];
      }
    }
    return out;
  };
}
