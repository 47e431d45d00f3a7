/**
 * Dispatching on TF.js's webgpu backend: one uniform write per submit instead
 * of one per dispatch ({@link installUniformArena}), the program object
 * fuselab's own one-output shaders are dispatched with ({@link flatProgram}),
 * and own WGSL modules that write several buffers ({@link rawDispatch}).
 *
 * A small model's training step on a GPU is bound by the JavaScript and
 * WebGPU calls around each dispatch, not by the GPU: in Deno every call costs
 * tens of microseconds (measured on an H200 machine: `createBindGroup` 40 µs,
 * `queue.writeBuffer` 30 µs). TF.js makes, for every dispatch, a uniform
 * buffer (taken from a pool and filled with `writeBuffer`) and a bind group.
 * The arena removes the pool calls and all but one `writeBuffer` per submit:
 * each dispatch's uniforms are laid out in a CPU-side arena at a 256-byte
 * aligned offset of one GPU buffer, and the arena is written with one
 * `writeBuffer` just before the command buffer is submitted. Queue operations
 * run in order, so the write lands after the previous submission has finished
 * reading the same buffer (the rule TF.js's own pool relies on when it reuses
 * uniform buffers).
 *
 * (Caching bind groups was tried too: TF.js's buffer pool does not hand out
 * the same buffers in the same order from step to step, so 85% of lookups
 * missed, and it was dropped.)
 *
 * The uniform layout follows the struct TF.js declares for every program:
 * fields in order, a field of 1 value aligned to 4 bytes, of 2 to 8, of 3–6 to
 * 16, a field after a 5- or 6-value one (a `vec5`/`vec6` struct) to 16, and
 * the whole rounded to its largest alignment.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { envSwitch } from "../switches.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

interface UniformField {
  type: "int32" | "uint32" | "float32" | string;
  data: number[];
}

/** Byte offsets of each field and the struct size, per TF.js's `Uniforms` struct. */
export function uniformLayout(fields: UniformField[]): { offsets: number[]; size: number } {
  let at = 0, largest = 1, previous = 0;
  const offsets: number[] = [];
  for (const f of fields) {
    const n = Math.max(1, f.data.length);
    if (n > 6) throw new Error(`webgpu uniforms: a field of ${n} values is not supported`);
    let align = n === 1 ? 4 : n === 2 ? 8 : 16;
    if (previous === 5 || previous === 6) align = 16;
    largest = Math.max(largest, align);
    at = Math.ceil(at / align) * align;
    offsets.push(at);
    at += n * 4;
    previous = n;
  }
  return { offsets, size: Math.ceil(at / largest) * largest };
}

/** GPUBufferUsage.UNIFORM | COPY_DST. */
const ARENA_USAGE = 0x40 | 0x8;
const ARENA_BYTES = 1 << 16;

interface Arena {
  buffer: { size: number };
  bytes: Uint8Array;
  used: number;
}

const arena = envSwitch("FUSELAB_WEBGPU_UNIFORM_ARENA", true);
/**
 * Turns the uniform arena on (the default) or off, for tests and diagnosis;
 * `FUSELAB_WEBGPU_UNIFORM_ARENA=0` turns it off from the start.
 */
export function setUniformArena(on: boolean): void {
  arena.on = on;
}

const counters = { uniformWrites: 0, arenaDispatches: 0, rawDispatches: 0 };

/** Arena writes and the dispatches they carried, since start-up (a copy). */
export function dispatchCounters(): typeof counters {
  return { ...counters };
}

/** Replaces TF.js's `makeUniforms` with the arena, and writes the arena before each submit. */
export function installUniformArena(backend: AnyBackend): void {
  const device = backend.device;
  const align = device.limits?.minUniformBufferOffsetAlignment ?? 256;
  const free: Arena[] = [];
  let filling: Arena[] = [];
  let current: Arena | null = null;
  const makeUniforms = backend.makeUniforms.bind(backend);
  backend.makeUniforms = (fields: UniformField[]) => {
    if (!arena.on) return makeUniforms(fields);
    const { offsets, size } = uniformLayout(fields);
    if (size > ARENA_BYTES) return makeUniforms(fields);
    let offset = current ? Math.ceil(current.used / align) * align : 0;
    if (!current || offset + size > ARENA_BYTES) {
      current = free.pop() ?? {
        buffer: device.createBuffer({ size: ARENA_BYTES, usage: ARENA_USAGE }),
        bytes: new Uint8Array(ARENA_BYTES),
        used: 0,
      };
      filling.push(current);
      offset = 0;
    }
    const view = new DataView(current.bytes.buffer);
    fields.forEach((f, i) => {
      const data = f.data.length ? f.data : [1];
      data.forEach((x, j) => {
        const at = offset + offsets[i] + 4 * j;
        if (f.type === "int32") view.setInt32(at, x, true);
        else if (f.type === "uint32") view.setUint32(at, x, true);
        else view.setFloat32(at, x, true);
      });
    });
    current.used = offset + size;
    counters.arenaDispatches++;
    return { offset, size, buffer: current.buffer };
  };
  const submitQueue = backend.submitQueue.bind(backend);
  backend.submitQueue = () => {
    for (const a of filling) {
      backend.queue.writeBuffer(a.buffer, 0, a.bytes.buffer, 0, Math.ceil(a.used / 4) * 4);
      counters.uniformWrites++;
      a.used = 0;
      free.push(a);
    }
    filling = [];
    current = null;
    return submitQueue();
  };
}

/** What {@link flatProgram} needs: a TF.js WebGPU program over one flat index. */
export interface FlatProgramSpec {
  /** The shader's name; TF.js appends shapes and dtypes for its pipeline cache. */
  key: string;
  /** Input array names in the shader, in the order of the inputs passed. */
  inputs: string[];
  outputShape: number[];
  /** Uniform fields after TF.js's own, e.g. `"lr : f32, n : i32,"`. */
  uniforms: string;
  /** The body of `main(index : i32)`; it guards `index` itself. */
  body: string;
  /** Floats per thread: 4 reads and writes `vec4<f32>` (the size must be a multiple of 4). */
  components?: 1 | 4;
  workgroup?: number;
}

/**
 * A program object in the shape `backend.runWebGPUProgram` expects. Make one
 * per dispatch: `runWebGPUProgram` rewrites its `shaderKey` (appending shapes
 * and dtypes), so a reused object would miss TF.js's pipeline cache and
 * recompile every time.
 */
export function flatProgram(spec: FlatProgramSpec): Record<string, unknown> {
  const components = spec.components ?? 1;
  const workgroup = spec.workgroup ?? 64;
  const size = spec.outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames: spec.inputs,
    outputShape: spec.outputShape,
    shaderKey: spec.key,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / components / workgroup), 1, 1],
    workgroupSize: [workgroup, 1, 1],
    size: true,
    uniforms: spec.uniforms,
    outputComponent: components,
    variableComponents: spec.inputs.map(() => components),
    getUserCode: () => `
      fn main(index : i32) {
        ${spec.body}
      }
    `,
  };
}

/** What {@link rawDispatch} records: a whole WGSL module and its bindings in order. */
export interface RawDispatchSpec {
  /** Pipeline cache key: one compiled pipeline per key and device. */
  key: string;
  /**
   * The complete WGSL module, entry point `main`; storage bindings 0…n−1 in
   * the order of `tensors` (the shader declares which it writes; one buffer
   * must not be bound twice when either binding writes), the uniform struct at
   * binding n.
   */
  code: string;
  /** The tensors whose buffers are bound, in binding order. */
  tensors: { dataId: object }[];
  /** Uniform fields, laid out as TF.js lays out its own (see {@link uniformLayout}). */
  uniforms: UniformField[];
  workgroups: [number, number, number];
}

const rawPipelines = new WeakMap<object, Map<string, unknown>>();

/** The keys of the pipelines {@link rawDispatch} compiled on `device`. */
export function rawPipelineKeys(device: object): string[] {
  return [...(rawPipelines.get(device)?.keys() ?? [])];
}

/**
 * Records one dispatch of an own WGSL module into TF.js's command stream on
 * the webgpu backend: in order with TF.js's kernels, in its current compute
 * pass, submitted with its batch. Unlike a TF.js program it may write several
 * buffers (the module declares them `read_write`), which lets one dispatch
 * update a parameter and both Adam moments. The tensors' buffers stay alive until the
 * command buffer is submitted, as TF.js's own inputs and outputs do.
 */
export function rawDispatch(backend: AnyBackend, spec: RawDispatchSpec): void {
  const device = backend.device;
  let cache = rawPipelines.get(device);
  if (!cache) rawPipelines.set(device, cache = new Map());
  let pipeline = cache.get(spec.key) as AnyBackend;
  if (!pipeline) {
    const module = device.createShaderModule({ code: spec.code, label: spec.key });
    pipeline = device.createComputePipeline({
      label: spec.key,
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    cache.set(spec.key, pipeline);
  }
  const entries = spec.tensors.map((t, i) => {
    backend.uploadToGPU(t.dataId);
    backend.commandQueueOwnedIds.add(t.dataId);
    return { binding: i, resource: backend.tensorToBinding(t) };
  });
  entries.push({ binding: entries.length, resource: backend.makeUniforms(spec.uniforms) });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) {
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  }
  const pass = backend.computePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...spec.workgroups);
  counters.rawDispatches++;
  backend.dispatchCountInPass++;
  if (backend.dispatchCountInPass >= Number(tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE"))) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

/**
 * WGSL of `fn name(v : f32, t : u32) -> f32`: the workgroup's reduction of v
 * with `combine` (e.g. a sum or a max) over `size` threads (a power of two),
 * t the thread's local index. Every thread calls it and gets the result.
 */
export function wgslWorkgroupReduce(
  name: string,
  size: number,
  combine: (a: string, b: string) => string,
): string {
  return `
  var<workgroup> ${name}Part : array<f32, ${size}>;
  fn ${name}(v : f32, t : u32) -> f32 {
    ${name}Part[t] = v;
    workgroupBarrier();
    for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
      if (t < s) { ${name}Part[t] = ${combine(`${name}Part[t]`, `${name}Part[t + s]`)}; }
      workgroupBarrier();
    }
    let r = ${name}Part[0];
    workgroupBarrier();
    return r;
  }`;
}

/**
 * A recorder of WGSL modules that share `uniforms`:
 * `(key, code, inputs, shapes, workgroups)` records {@link rawDispatch} of a
 * module whose bindings are `inputs` and then fresh float32 outputs of
 * `shapes`, and returns the outputs as tensors.
 */
export function rawRecorder(backend: AnyBackend, uniforms: UniformField[]) {
  return (
    key: string,
    code: string,
    inputs: tf.Tensor[],
    shapes: number[][],
    workgroups: [number, number, number],
  ): tf.Tensor[] => {
    const outs = shapes.map((s) => backend.makeTensorInfo(s, "float32"));
    rawDispatch(backend, { key, code, uniforms, workgroups, tensors: [...inputs, ...outs] });
    return outs.map((o) => tf.engine().makeTensorFromTensorInfo(o));
  };
}

/** Workgroups along x before an own module's grid wraps into y: WebGPU's guaranteed limit. */
export const GRID_X = 65535;

/**
 * A grid of at least `groups` workgroups for {@link rawDispatch}: up to
 * {@link GRID_X} along x, the rest along y, so the module's workgroup number
 * is `x + y · GRID_X`.
 */
export function wrappedGrid(groups: number): [number, number, number] {
  return [Math.min(groups, GRID_X), Math.ceil(groups / GRID_X), 1];
}
