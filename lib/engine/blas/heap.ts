/**
 * Direct access to tensors that live in the TF.js wasm backend's heap.
 *
 * A wasm tensor is `byteLength` bytes at `dataIdMap.get(dataId).memoryOffset`
 * inside `backend.wasm.HEAPU8.buffer`. Allocating (`makeOutput`) can grow the
 * wasm memory, which detaches every view taken before it; a detached view (or
 * an address computed from it) handed to native code crashes the process
 * instead of throwing. So every kernel here allocates all of its outputs
 * first, then takes views and addresses, and allocates nothing more until its
 * native calls have returned.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The parts of the wasm backend (`tf.backend()` when it is "wasm") that kernels use. */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: {
    get(dataId: object): { memoryOffset: number; refCount: number } | undefined;
  };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  readSync(dataId: object): tf.backend_util.BackendValues;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The arguments TF.js passes to a kernel function on the wasm backend. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackend;
  attrs?: tf.NamedAttrMap;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Byte offset of a tensor inside the wasm heap. */
export function offsetOf(backend: WasmBackend, info: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(info.dataId);
  if (!d) throw new Error(`wasm tensor ${JSON.stringify(info.shape)} has no data (disposed?)`);
  return d.memoryOffset;
}

/** A float32 view of a tensor's data. Take it after every allocation of the kernel. */
export function f32(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, offsetOf(backend, info), sizeOf(info.shape));
}

/** A view of a tensor's data typed by its dtype (float32, int32 or bool). */
export function view(
  backend: WasmBackend,
  info: tf.TensorInfo,
): Float32Array | Int32Array | Uint8Array {
  const buf = backend.wasm.HEAPU8.buffer;
  const off = offsetOf(backend, info);
  const n = sizeOf(info.shape);
  switch (info.dtype) {
    case "float32":
      return new Float32Array(buf, off, n);
    case "int32":
      return new Int32Array(buf, off, n);
    case "bool":
      return new Uint8Array(buf, off, n);
    default:
      throw new Error(`no heap view for dtype ${info.dtype}`);
  }
}

/**
 * The native address of a typed array's first byte, for FFI calls that take
 * addresses. Keep the array alive (and larger than a few dozen elements, which
 * V8 may keep on its moving heap) until the call returns.
 */
export function nativeAddress(a: ArrayBufferView): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
}

/**
 * The native address of the start of the wasm heap, for FFI calls that take
 * addresses. Valid only until the next allocation on the backend.
 */
export function heapAddress(backend: WasmBackend): number {
  return nativeAddress(backend.wasm.HEAPU8);
}

/**
 * The broadcast shape of `a` and `b` (NumPy rules), or an error naming both
 * shapes.
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a}] and [${b}] cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each flat index of `outShape`, the flat index into a tensor of shape
 * `inShape` that broadcasts to it (rank-aligned on the right).
 */
export function broadcastIndex(
  outShape: readonly number[],
  inShape: readonly number[],
): Int32Array {
  const n = sizeOf(outShape);
  const idx = new Int32Array(n);
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  // Stride in the input for each output axis (0 where the input broadcasts).
  const step = new Array<number>(rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const j = inShape.length - rank + i;
    if (j >= 0 && inShape[j] !== 1) step[i] = inStrides[j];
  }
  const counter = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = pos;
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]++;
      pos += step[ax];
      if (counter[ax] < outShape[ax]) break;
      pos -= step[ax] * counter[ax];
      counter[ax] = 0;
    }
  }
  return idx;
}
