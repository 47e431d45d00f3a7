/**
 * WebGPU backend start-up (issue 8 adds the shader fix and the error guard).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Starts TF.js's WebGPU backend on Deno's `navigator.gpu`. */
export async function initWebGPU(): Promise<
  { ok: boolean; why: string; details?: Record<string, string>; software?: boolean }
> {
  // deno-lint-ignore no-explicit-any
  const gpu = (navigator as any).gpu;
  if (!gpu) return { ok: false, why: "navigator.gpu is missing" };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, why: "no WebGPU adapter found" };
  const info = adapter.info ?? {};
  const software = /llvmpipe|swiftshader|software|lavapipe/i.test(
    `${info.description} ${info.device} ${info.architecture}`,
  ) || adapter.isFallbackAdapter === true;
  await import("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend("webgpu");
  if (!ok) return { ok: false, why: "the webgpu backend failed to initialise" };
  await tf.ready();
  const name = `${info.vendor ?? ""} ${info.device || info.description || ""}`.trim() || "unknown";
  return { ok: true, why: `WebGPU adapter ${name}`, details: { adapter: name }, software };
}
