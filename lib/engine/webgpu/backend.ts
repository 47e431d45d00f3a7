/**
 * TF.js's WebGPU backend on Deno's built-in `navigator.gpu`, made correct.
 *
 * Out of the box `@tensorflow/tfjs-backend-webgpu@4.22.0` gives wrong numbers
 * here: one transpose shader fails to compile, and TF.js never listens for GPU
 * validation errors, so the whole command buffer around it is dropped silently
 * and reads return stale memory. {@link initWebGPU} therefore registers its own
 * `webgpu` backend factory that:
 *
 * 1. rewrites the faulty WGSL before it compiles ({@link patchShader});
 * 2. guards the device: every shader compile and pipeline creation runs in an
 *    error scope, a validation/out-of-memory scope stays open between reads,
 *    and `uncapturederror`/`lost` are listened to; any fault is thrown, naming
 *    the kernel and program, at the next read ({@link WebGPUKernelError});
 * 3. makes synchronous reads (`dataSync`), impossible in Deno, fail with a fix.
 *
 * Nothing is initialised when the adapter is missing, or (for `auto`) when it
 * is a software adapter: {@link probeWebGPU} looks at the adapter first.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { columnSumKernel } from "./column_sum.ts";
import { matMulKernel } from "./matmul.ts";
import { installBindGroupCache } from "./bind_groups.ts";
import { patchShader } from "./shader_fix.ts";
import { installUniformArena } from "./dispatch.ts";
import { envSwitch } from "../switches.ts";

export { patchShader, SHADER_FIXES } from "./shader_fix.ts";
export type { ShaderFix } from "./shader_fix.ts";

// Minimal views of the WebGPU objects used here (Deno's lib types vary by version).
interface GpuError {
  message: string;
}
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(desc: unknown): Promise<GpuDevice>;
}
interface GpuDevice {
  createShaderModule(desc: { code: string; label?: string }): unknown;
  createComputePipeline(desc: { label?: string }): unknown;
  createComputePipelineAsync(desc: { label?: string }): Promise<unknown>;
  pushErrorScope(filter: string): void;
  popErrorScope(): Promise<GpuError | null>;
  addEventListener(type: string, f: (e: Event & { error?: GpuError }) => void): void;
  lost: Promise<{ reason?: string; message: string }>;
  destroy(): void;
}
interface GpuNavigator {
  requestAdapter(opts?: unknown): Promise<GpuAdapter | null>;
}

/** What {@link probeWebGPU} found. */
export type WebGPUProbe =
  | { ok: true; adapter: GpuAdapter; name: string; software: boolean; info: GpuAdapterInfo }
  | { ok: false; why: string };

/** Result of {@link initWebGPU}, in the shape `selectBackend` expects. */
export interface WebGPUAttempt {
  ok: boolean;
  why: string;
  details?: Record<string, string>;
  /** The adapter is a software rasteriser (llvmpipe, lavapipe, SwiftShader). */
  software?: boolean;
}

/** One GPU fault, with what was running when it happened. */
export interface GpuFault {
  /** The TF.js kernel being run (e.g. `Transpose`), when known. */
  kernel?: string;
  /** The WebGPU program class (e.g. `TransposeProgram`), when known. */
  program?: string;
  /** The program's shader key (shapes and dtypes), when known. */
  shaderKey?: string;
  /** Where the fault surfaced: shader compile, pipeline, or queue. */
  stage: string;
  /** The GPU's message. */
  message: string;
}

/**
 * Thrown at the first read after a GPU fault. Results computed since the
 * previous read are invalid (the command buffer holding them was dropped).
 */
export class WebGPUKernelError extends Error {
  /** @param faults what the GPU reported, with the kernel that caused it */
  constructor(readonly faults: GpuFault[]) {
    const lines = faults.slice(0, 5).map((f) => {
      const where = [
        f.kernel ? `kernel "${f.kernel}"` : "",
        f.program ? `program ${f.program}` : "",
        f.shaderKey ? `shader ${f.shaderKey}` : "",
      ].filter(Boolean).join(", ");
      const msg = f.message.trim().split("\n").slice(0, 12).join("\n      ");
      return `  - ${f.stage} failed${where ? ` in ${where}` : ""}: ${msg}`;
    });
    super(
      `webgpu: the GPU rejected work, so results since the last read are invalid ` +
        `(${faults.length} fault${faults.length > 1 ? "s" : ""}):\n${lines.join("\n")}\n` +
        `  fix: run this model with --backend wasm (or cpu) and report the kernel above; ` +
        `fuselab's shader fixes are in lib/engine/webgpu/shader_fix.ts`,
    );
    this.name = "WebGPUKernelError";
  }
}

/** Counters for tests and diagnostics. */
export interface WebGPUStats {
  /** Shader fixes applied, by fix name (once per compiled program). */
  shaderFixes: Record<string, number>;
  /** Programs compiled. */
  compiled: number;
  /** Reads checked by the guard. */
  checks: number;
}

const stats: WebGPUStats = { shaderFixes: {}, compiled: 0, checks: 0 };
let faults: GpuFault[] = [];
let pending: Promise<void>[] = [];
let guardedDevice: GpuDevice | undefined;
interface RunContext {
  kernel?: string;
  program?: string;
  /** The running TF.js program object (its shaderKey is set just before compiling). */
  source?: { shaderKey?: string };
}
let context: RunContext = {};
let installed = false;
let lastInitError = "";
let adapterName = "";
let fixesOn = true;
const queueUploads = envSwitch("FUSELAB_WEBGPU_QUEUE_UPLOADS", true);
// deno-lint-ignore no-explicit-any
let guardedBackend: any;

const PERSISTENT_SCOPES = ["validation", "out-of-memory"] as const;

function gpuNavigator(): GpuNavigator | undefined {
  return (navigator as unknown as { gpu?: GpuNavigator }).gpu;
}

function describeAdapter(info: GpuAdapterInfo): string {
  const d = (info.description ?? "").trim();
  if (d) return d;
  const v = `${info.vendor ?? ""} ${info.device ?? ""} ${info.architecture ?? ""}`.trim();
  return v || "unknown adapter";
}

/**
 * Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid" to stderr on every
 * adapter request when the variable is unset (headless machines, CI); give
 * them a private empty folder instead.
 */
function quietVulkanLoader(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    // One folder per machine and user, reused, rather than a new one per process.
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/fuselab-xdg-${Deno.uid() ?? "user"}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Without env, sys or write permission the message is only noise.
  }
}

/**
 * Looks for a WebGPU adapter without starting any TF.js backend.
 * `software` is true for llvmpipe/lavapipe/SwiftShader or a fallback adapter.
 */
export async function probeWebGPU(): Promise<WebGPUProbe> {
  const gpu = gpuNavigator();
  if (!gpu) return { ok: false, why: "navigator.gpu is missing (this Deno has no WebGPU)" };
  quietVulkanLoader();
  let adapter: GpuAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { ok: false, why: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) {
    return {
      ok: false,
      why: "no WebGPU adapter (no Vulkan driver found: install the GPU's Vulkan ICD, " +
        "or mesa-vulkan-drivers for a software adapter)",
    };
  }
  const info = adapter.info ?? {};
  const name = describeAdapter(info);
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader|software/i.test(
      `${info.description} ${info.device} ${info.architecture}`,
    );
  return { ok: true, adapter, name, software, info };
}

function record(stage: string, message: string, ctx: RunContext = context): void {
  const { kernel, program, source } = ctx;
  faults.push({ kernel, program, shaderKey: source?.shaderKey, stage, message });
}

function watchScope(p: Promise<GpuError | null>, stage: string): void {
  const ctx = { ...context };
  pending.push(p.then((err) => {
    if (err) record(stage, err.message, ctx);
  }, (e) => record(stage, String(e), ctx)));
}

/**
 * TF.js asks the pipeline for its bind group layout on every dispatch (a call
 * into Deno's WebGPU each time); the layout of a pipeline never changes, so
 * the first answer is kept.
 */
function memoiseLayouts(pipeline: unknown): void {
  const p = pipeline as { getBindGroupLayout?: (i: number) => unknown };
  if (typeof p?.getBindGroupLayout !== "function") return;
  const get = p.getBindGroupLayout.bind(p);
  const layouts = new Map<number, unknown>();
  p.getBindGroupLayout = (i: number) => {
    let layout = layouts.get(i);
    if (layout === undefined) layouts.set(i, layout = get(i));
    return layout;
  };
}

/** Wraps the device so that shaders are fixed and every fault is recorded. */
function guardDevice(device: GpuDevice): void {
  const createShaderModule = device.createShaderModule.bind(device);
  const createComputePipeline = device.createComputePipeline.bind(device);
  const createComputePipelineAsync = device.createComputePipelineAsync.bind(device);
  device.createShaderModule = (desc) => {
    const { code, applied } = fixesOn
      ? patchShader(desc.label ?? "", desc.code)
      : { code: desc.code, applied: [] };
    for (const a of applied) stats.shaderFixes[a] = (stats.shaderFixes[a] ?? 0) + 1;
    stats.compiled++;
    device.pushErrorScope("validation");
    const module = createShaderModule({ ...desc, code });
    watchScope(device.popErrorScope(), "shader compile");
    return module;
  };
  device.createComputePipeline = (desc) => {
    device.pushErrorScope("validation");
    const pipeline = createComputePipeline(desc);
    watchScope(device.popErrorScope(), "pipeline creation");
    memoiseLayouts(pipeline);
    return pipeline;
  };
  device.createComputePipelineAsync = (desc) => {
    const ctx = { ...context };
    return createComputePipelineAsync(desc).catch((e: Error) => {
      record("pipeline creation", e.message, ctx);
      throw e;
    });
  };
  device.addEventListener("uncapturederror", (e) => {
    record("device", e.error?.message ?? String(e));
  });
  device.lost.then((info) => {
    if (info.reason !== "destroyed") {
      record("device lost", info.message || "the GPU device was lost");
    }
  });
  for (const s of PERSISTENT_SCOPES) device.pushErrorScope(s);
  guardedDevice = device;
}

/**
 * Throws {@link WebGPUKernelError} if the GPU reported any fault since the last
 * check. Called after every read of a GPU tensor; call it yourself after work
 * whose results you do not read.
 */
export async function checkWebGPU(): Promise<void> {
  const device = guardedDevice;
  if (device) {
    stats.checks++;
    const scopes: Promise<GpuError | null>[] = [];
    for (let i = PERSISTENT_SCOPES.length - 1; i >= 0; i--) scopes.push(device.popErrorScope());
    for (const s of PERSISTENT_SCOPES) device.pushErrorScope(s);
    const found = await Promise.all(scopes);
    for (const err of found) if (err) record("queue", err.message, {});
  }
  while (pending.length) {
    const p = pending;
    pending = [];
    await Promise.all(p);
  }
  if (faults.length) {
    const f = faults;
    faults = [];
    throw new WebGPUKernelError(f);
  }
}

/**
 * Turns the shader fixes off (or back on) for shaders compiled from now on.
 * Only for tests and diagnosis: with them off, wrong kernels fail again.
 */
export function setShaderFixes(on: boolean): void {
  fixesOn = on;
  // Compiled pipelines are cached by shader key: drop them so the setting applies.
  if (guardedBackend) guardedBackend.pipelineCache = {};
}

/**
 * Uploads CPU tensors through `queue.writeBuffer` (on, the default) or through
 * TF.js's own staging buffers (off). For tests and diagnosis; the variable
 * `FUSELAB_WEBGPU_QUEUE_UPLOADS=0` turns it off from the start.
 */
export function setQueueUploads(on: boolean): void {
  queueUploads.on = on;
}

/** Shader-fix and guard counters (a copy). */
export function webgpuStats(): WebGPUStats {
  return { ...stats, shaderFixes: { ...stats.shaderFixes } };
}

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Hooks on the backend instance: kernel context, checked reads, clear sync-read errors. */
function guardBackend(backend: AnyBackend): void {
  guardedBackend = backend;
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program: AnyBackend, ...rest: unknown[]) => {
    const outer = context;
    context = { ...outer, program: program?.constructor?.name, source: program };
    try {
      return run(program, ...rest);
    } finally {
      context = outer;
    }
  };
  installQueueUploads(backend);
  installUniformArena(backend);
  installBindGroupCache(backend);
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    const values = await read(dataId);
    await checkWebGPU();
    return values;
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (
      data && data.values == null && data.dtype !== "string" && data.dtype !== "complex64" &&
      "Deno" in globalThis
    ) {
      throw new Error(
        "webgpu: a GPU tensor cannot be read synchronously in Deno (TF.js reads it through a " +
          "2D canvas, which Deno lacks)\n  fix: use `await tensor.data()` or " +
          "`await tensor.array()` instead of dataSync/arraySync/bufferSync",
      );
    }
    if (faults.length) {
      const f = faults;
      faults = [];
      throw new WebGPUKernelError(f);
    }
    return readSync(dataId);
  };
}

/** GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST: what TF.js gives a tensor's buffer. */
const TENSOR_BUFFER_USAGE = 0x80 | 0x4 | 0x8;

/**
 * Uploads a CPU tensor with `queue.writeBuffer` instead of TF.js's staging
 * buffer. TF.js creates a mapped staging buffer for every upload and destroys
 * it after the next submit; a training step uploads hundreds of scalars (every
 * `mul(x, 0.5)` and every gradient constant), and in Deno each create/destroy
 * pair made `queue.submit` stall, up to 150 ms a submit (the bench model: 340
 * uploads, 1.35 s a step on an H200). `writeBuffer` copies the values into the
 * queue's own staging ring and runs before the next submitted command buffer.
 * That order is safe: the destination comes from the free pool, and TF.js
 * returns a buffer to the pool only after the commands that used it were
 * submitted.
 */
function installQueueUploads(backend: AnyBackend): void {
  const upload = backend.uploadToGPU.bind(backend);
  backend.uploadToGPU = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (
      !data || data.resource != null || data.values == null || !queueUploads.on ||
      !(data.dtype === "float32" || data.dtype === "int32" || data.dtype === "bool")
    ) {
      return upload(dataId);
    }
    const n = tf.util.sizeFromShape(data.shape);
    const values = data.dtype === "float32"
      ? (data.values instanceof Float32Array ? data.values : Float32Array.from(data.values))
      : (data.values instanceof Int32Array ? data.values : Int32Array.from(data.values));
    const buffer = backend.bufferManager.acquireBuffer(n * 4, TENSOR_BUFFER_USAGE, false);
    if (n > 0) backend.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, n * 4);
    data.values = null;
    data.resource = buffer;
  };
}

/**
 * Kernels whose webgpu output dtype differs from TF.js's cpu backend on bool
 * input (a reduction of bools comes back int32): cast the result back to bool.
 */
const BOOL_OUTPUT_REDUCTIONS = new Set(["Max", "Min"]);
/** Kernels the webgpu backend rejects on bool input: given int32 instead. */
const BOOL_INPUT_AS_INT32 = new Set(["UnsortedSegmentSum"]);

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Disposer = { disposeData(id: object): void };

function castOnWebGPU(args: KernelArgs, x: tf.TensorInfo, dtype: tf.DataType): tf.TensorInfo {
  const cast = tf.getKernel("Cast", "webgpu")!;
  return cast.kernelFunc({
    inputs: { x },
    backend: args.backend,
    attrs: { dtype },
  }) as tf.TensorInfo;
}

/**
 * Re-registers every webgpu kernel so that faults name the kernel that ran,
 * and routes around the dtype gaps above.
 */
function tagKernels(): void {
  for (const k of tf.getKernelsForBackend("webgpu")) {
    const inner = k.kernelFunc;
    const name = k.kernelName;
    tf.unregisterKernel(name, "webgpu");
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const outer = context;
        context = { kernel: name };
        try {
          const x = args.inputs.x as tf.TensorInfo | undefined;
          if (BOOL_INPUT_AS_INT32.has(name) && x?.dtype === "bool") {
            const xi = castOnWebGPU(args, x, "int32");
            try {
              return inner({ ...args, inputs: { ...args.inputs, x: xi } });
            } finally {
              (args.backend as unknown as Disposer).disposeData(xi.dataId);
            }
          }
          const out = inner(args);
          if (
            BOOL_OUTPUT_REDUCTIONS.has(name) && x?.dtype === "bool" && !Array.isArray(out) &&
            out.dtype !== "bool"
          ) {
            const b = castOnWebGPU(args, out, "bool");
            (args.backend as unknown as Disposer).disposeData(out.dataId);
            return b;
          }
          return out;
        } finally {
          context = outer;
        }
      },
    });
  }
}

async function makeBackend(): Promise<tf.KernelBackend> {
  const mod = await import("@tensorflow/tfjs-backend-webgpu");
  const gpu = gpuNavigator();
  const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter");
  const limits = adapter.limits;
  const requiredFeatures = adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      // fuselab's Adam binds four buffers a parameter, as many parameters a dispatch as allowed.
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  guardDevice(device);
  // Measured on an H200 (bench model, one run each, noisy): 73 ms a step with
  // TF.js's defaults, 67 ms with small ops kept on the GPU, 61 ms with that and
  // 60 dispatches per command buffer. FUSELAB_TFJS_FLAGS, applied after, wins.
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", 60);
  const backend = new mod.WebGPUBackend(device as never, adapter.info as never);
  guardBackend(backend);
  return backend;
}

async function install(): Promise<void> {
  if (installed) return;
  // Importing the package registers its own factory (priority 3, unguarded):
  // replace it, at a priority that never wins TF.js's implicit backend choice.
  await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
    try {
      return await makeBackend();
    } catch (e) {
      lastInitError = (e as Error).message;
      throw e;
    }
  }, -1);
  const sum = tf.getKernel("Sum", "webgpu");
  if (sum) {
    tf.unregisterKernel("Sum", "webgpu");
    tf.registerKernel({ ...sum, kernelFunc: columnSumKernel(sum.kernelFunc) });
  }
  for (const name of ["BatchMatMul", "_FusedMatMul"]) {
    const k = tf.getKernel(name, "webgpu");
    if (!k) continue;
    tf.unregisterKernel(name, "webgpu");
    tf.registerKernel({ ...k, kernelFunc: matMulKernel(k.kernelFunc) });
  }
  tagKernels();
  installed = true;
}

/**
 * Starts the guarded WebGPU backend and makes it current. With
 * `allowSoftware: false` a software adapter is reported (`software: true`)
 * without initialising anything.
 */
export async function initWebGPU(
  opts: { allowSoftware?: boolean } = {},
): Promise<WebGPUAttempt> {
  const probe = await probeWebGPU();
  if (!probe.ok) return { ok: false, why: probe.why };
  const details: Record<string, string> = {
    adapter: probe.name,
    adapterKind: probe.software ? "software" : "hardware",
  };
  if (probe.software && opts.allowSoftware === false) {
    return { ok: true, why: `WebGPU adapter ${probe.name}`, details, software: true };
  }
  await install();
  lastInitError = "";
  let ok = false;
  const warn = console.warn;
  console.warn = () => {}; // TF.js warns on a failed init; the reason is returned instead
  try {
    ok = await tf.setBackend("webgpu");
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    return {
      ok: false,
      why: `the webgpu backend failed to initialise${lastInitError ? `: ${lastInitError}` : ""}`,
    };
  }
  await tf.ready();
  adapterName = probe.name;
  return {
    ok: true,
    why: `WebGPU on ${probe.software ? "software" : "hardware"} adapter ${probe.name}`,
    details: { ...details, shaderFixes: "transpose-f32-read, atomic-add-i32-convert" },
    software: probe.software,
  };
}

/** The adapter the webgpu backend runs on ("" before {@link initWebGPU} succeeded). */
export function webgpuAdapterName(): string {
  return adapterName;
}
