/**
 * The engine: backend choice, kernel overrides, seeding.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./rng.ts";
export { registerWasmKernels } from "./wasm_kernels.ts";
export { checkWebGPU, patchShader, probeWebGPU, WebGPUKernelError } from "./webgpu.ts";
export { blasInstalled, installBlasKernels, uninstallBlasKernels } from "./accel/mod.ts";
