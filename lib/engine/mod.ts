/**
 * The engine's entry point: backend choice, kernel switches, and the kernel
 * replacements of the two backends fuselab fixes and speeds up —
 * `blas/` (the wasm backend with OpenBLAS products and correctness fixes)
 * and `webgpu/` (TF.js's WebGPU backend made correct, with fused modules).
 * The root `mod.ts` exports only the backend choice; this module is for
 * tools and diagnostics.
 *
 * @module
 */
export * from "./backend.ts";
export { changedSwitches, envSwitch, type Switch, switches } from "./switches.ts";
export { registerWasmKernels } from "./blas/wasm_kernels.ts";
export {
  checkWebGPU,
  patchShader,
  probeWebGPU,
  WebGPUKernelError,
  type WebGPUProbe,
  webgpuStats,
} from "./webgpu/backend.ts";
export { blasInstalled, installBlasKernels, uninstallBlasKernels } from "./blas/mod.ts";
