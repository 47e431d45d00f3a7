/**
 * The engine: backend choice, kernel overrides, seeding.
 *
 * @module
 */
export * from "./backend.ts";
export * from "../util/rng.ts";
export { registerWasmKernels } from "./blas/wasm_kernels.ts";
export { checkWebGPU, patchShader, probeWebGPU, WebGPUKernelError } from "./webgpu/backend.ts";
export { blasInstalled, installBlasKernels, uninstallBlasKernels } from "./blas/mod.ts";
