/**
 * Replacing kernels of the wasm backend through TF.js's kernel registry, and
 * putting the previous ones back.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WasmKernelArgs } from "./heap.ts";

/** A kernel function for the wasm backend. */
export type WasmKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo;

const saved: tf.KernelConfig[] = [];

/**
 * The kernel function registered now for `name` on wasm (throws when there is
 * none), so a replacement can hand the cases it does not cover back to it.
 */
export function currentKernel(name: string): WasmKernelFunc {
  const k = tf.getKernel(name, "wasm");
  if (!k) throw new Error(`the wasm backend has no kernel ${name}`);
  return k.kernelFunc as unknown as WasmKernelFunc;
}

/**
 * Registers `kernelFunc` for `name` on wasm in place of the current kernel,
 * keeping the current one's setup function (so a re-initialised backend still
 * sets up the stock code the fallbacks use). Remembered for
 * {@link restoreKernels}.
 */
export function replaceKernel(name: string, kernelFunc: WasmKernelFunc): void {
  const prev = tf.getKernel(name, "wasm");
  if (prev) {
    saved.push(prev);
    tf.unregisterKernel(name, "wasm");
  }
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    setupFunc: prev?.setupFunc,
    disposeFunc: prev?.disposeFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

/** Puts back, newest first, the kernels replaced since `mark` (a value of {@link replacedCount}). */
export function restoreKernels(mark = 0): void {
  while (saved.length > mark) {
    const prev = saved.pop()!;
    tf.unregisterKernel(prev.kernelName, "wasm");
    tf.registerKernel(prev);
  }
}

/** How many replacements are in force (a mark for {@link restoreKernels}). */
export function replacedCount(): number {
  return saved.length;
}
