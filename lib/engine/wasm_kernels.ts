/**
 * Kernels the stock TF.js wasm backend lacks or gets wrong, registered from
 * user code through TF.js's kernel registry (no edits to installed packages).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// deno-lint-ignore no-explicit-any
type WasmBackend = any;

/**
 * `UnsortedSegmentSum`: out[segmentIds[i], ...] += data[i, ...].
 * Needed by the gradient of `gather` (embedding lookups); wasm has none.
 */
function unsortedSegmentSum(
  { inputs, backend, attrs }: {
    inputs: tf.NamedTensorInfoMap;
    backend: WasmBackend;
    attrs?: tf.NamedAttrMap;
  },
): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  const segmentIds = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const rows = ids.length;
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  // Read the input only after allocating: allocation may grow the heap.
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const seg = ids[r];
    if (seg < 0 || seg >= numSegments) continue;
    const so = r * inner;
    const dO = seg * inner;
    for (let k = 0; k < inner; k++) dst[dO + k] += src[so + k];
  }
  return out;
}

let registered = false;

/** Registers the kernels wasm lacks for training. Idempotent. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel("UnsortedSegmentSum", "wasm")) {
    tf.registerKernel({
      kernelName: "UnsortedSegmentSum",
      backendName: "wasm",
      kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    });
  }
}
