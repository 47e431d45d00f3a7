/**
 * `Identity` that shares its input's data instead of copying it.
 *
 * The engine runs Identity to clone every tensor it saves for the backward
 * pass (hundreds per training step), and the stock wasm kernel copies each
 * one. Tensors are immutable, so the clone can point at the same heap block:
 * the wasm backend frees a block when its reference count reaches zero, so one
 * `incRef` per clone keeps it alive exactly as long as needed (this is what
 * the stock `Reshape` does too).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { WasmKernelArgs } from "./heap.ts";

/** The `Identity` kernel function: a new handle on the same data. */
export function sharedIdentity(
  fallback: (args: WasmKernelArgs) => tf.TensorInfo,
): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === "string") return fallback(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}
