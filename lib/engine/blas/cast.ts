/**
 * `Cast` for the wasm backend.
 *
 * - To `bool`: the stock kernel truncates to a byte (−2.5 → 254, 3 → 3);
 *   TF.js defines it as `x != 0` (1 or 0), which this computes.
 * - To the tensor's own dtype: the data is shared instead of copied (TF.js's
 *   ops and gradients cast float32 to float32 dozens of times a step).
 * - Every other conversion goes to the stock kernel.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { view, type WasmKernelArgs } from "./heap.ts";

/** The `Cast` kernel function. */
export function castKernel(
  fallback: (args: WasmKernelArgs) => tf.TensorInfo,
): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const dtype = (args.attrs as { dtype: tf.DataType }).dtype;
    if (x.dtype === "string" || x.dtype === "complex64") return fallback(args);
    if (dtype === x.dtype) {
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape.slice(), dtype };
    }
    if (dtype === "bool") {
      const out = args.backend.makeOutput(x.shape, "bool");
      const src = view(args.backend, x), dst = view(args.backend, out);
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    return fallback(args);
  };
}
