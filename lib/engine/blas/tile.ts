/**
 * `Tile` by block copies: the innermost axis is copied row by row, and each
 * outer axis repeats the block built so far with `copyWithin`. Used for the
 * attention mask's broadcast over heads.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { sizeOf, stridesOf, view, type WasmKernelArgs } from "./heap.ts";

/** Fills `dst` (shape `x.shape[i]·reps[i]`) with `src` tiled `reps` times. */
export function tileInto(
  src: Float32Array | Int32Array | Uint8Array,
  dst: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  reps: readonly number[],
): void {
  const rank = shape.length;
  if (rank === 0) {
    if (dst.length) dst[0] = src[0];
    return;
  }
  const outShape = shape.map((d, i) => d * reps[i]);
  const inStr = stridesOf(shape), outStr = stridesOf(outShape);
  const fill = (ax: number, so: number, dO: number): void => {
    const n = shape[ax];
    if (ax === rank - 1) {
      const row = src.subarray(so, so + n);
      for (let r = 0; r < reps[ax]; r++) dst.set(row, dO + r * n);
      return;
    }
    for (let i = 0; i < n; i++) fill(ax + 1, so + i * inStr[ax], dO + i * outStr[ax]);
    // The block for one repetition of this axis is contiguous: repeat it.
    const block = n * outStr[ax];
    for (let r = 1; r < reps[ax]; r++) dst.copyWithin(dO + r * block, dO, dO + block);
  };
  fill(0, 0, 0);
}

/** The `Tile` kernel function. */
export function tileKernel(
  fallback: (args: WasmKernelArgs) => tf.TensorInfo,
): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const reps = (args.attrs as { reps: number[] }).reps;
    if (x.dtype === "string" || reps.length !== x.shape.length) return fallback(args);
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = args.backend.makeOutput(outShape, x.dtype);
    if (sizeOf(outShape) > 0) {
      tileInto(view(args.backend, x), view(args.backend, out), x.shape, reps);
    }
    return out;
  };
}
