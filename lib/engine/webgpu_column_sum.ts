/**
 * `Sum` over every axis but the last on the webgpu backend in one dispatch:
 * the bias gradients of a model's Linear layers (Σ over the rows of ∂y).
 * TF.js's own `Sum` transposes first whenever the reduced axes are not the
 * last ones, so each such sum cost two dispatches (13 a bench step).
 *
 * One thread a column adds its rows in order (coalesced: neighbouring threads
 * read neighbouring columns). Rows come in chunks of 4096 a thread (Mesa's
 * llvmpipe silently ends a shader invocation's loops after 65,535
 * iterations); with more than one chunk the chunks' sums are summed the same
 * way. Every other `Sum` goes to TF.js's kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { rawDispatch } from "./webgpu_dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

const WG = 64;
const CHUNK = 4096;

const COLUMNS = `
  struct Uniforms { n : i32, rows : i32, };
  @group(0) @binding(0) var<storage, read> X : array<f32>;
  @group(0) @binding(1) var<storage, read_write> Y : array<f32>;
  @group(0) @binding(2) var<uniform> u : Uniforms;
  @compute @workgroup_size(${WG})
  fn main(@builtin(global_invocation_id) id : vec3<u32>) {
    let j = i32(id.x);
    if (j >= u.n) { return; }
    let first = i32(id.y) * ${CHUNK};
    var s = 0.0;
    for (var r = first; r < min(u.rows, first + ${CHUNK}); r++) { s += X[r * u.n + j]; }
    Y[i32(id.y) * u.n + j] = s;
  }
`;

let on = Deno.env.get("FUSELAB_WEBGPU_COLUMN_SUM") !== "0";

/**
 * Turns the one-dispatch column sum on (the default) or off, for comparisons
 * and tests; `FUSELAB_WEBGPU_COLUMN_SUM=0` turns it off from the start.
 */
export function setColumnSum(enabled: boolean): void {
  on = enabled;
}

/** Whether `axis` names exactly the axes 0 … rank−2 of a rank ≥ 2 tensor. */
export function leadingAxes(axis: number | number[], rank: number): boolean {
  if (rank < 2) return false;
  const axes = new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)));
  if (axes.size !== rank - 1) return false;
  for (let i = 0; i < rank - 1; i++) if (!axes.has(i)) return false;
  return true;
}

/**
 * Column sums of `x` viewed as [rows, n]: a new tensor info of `shape` when
 * the rows fit one chunk, else of the chunks' sums [chunks, n].
 */
function columnSums(
  backend: AnyBackend,
  x: tf.TensorInfo,
  rows: number,
  n: number,
  shape: number[],
) {
  const chunks = Math.ceil(rows / CHUNK);
  const out = backend.makeTensorInfo(chunks === 1 ? shape : [chunks, n], "float32");
  rawDispatch(backend, {
    key: "fuselab_column_sum",
    code: COLUMNS,
    tensors: [x, out],
    uniforms: [{ type: "int32", data: [n] }, { type: "int32", data: [rows] }],
    workgroups: [Math.ceil(n / WG), chunks, 1],
  });
  return { out, chunks };
}

/**
 * A `Sum` kernel function for webgpu: float32 sums over all axes but the last
 * by {@link columnSums}, anything else by `stock`.
 */
export function columnSumKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const r = x.shape.length;
    if (!on || x.dtype !== "float32" || !leadingAxes(axis, r) || x.shape.some((d) => d === 0)) {
      return stock(args);
    }
    const backend = args.backend as AnyBackend;
    const n = x.shape[r - 1];
    const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), n] : [n];
    let step = columnSums(backend, x, x.shape.slice(0, -1).reduce((a, b) => a * b, 1), n, shape);
    while (step.chunks > 1) {
      const next = columnSums(backend, step.out, step.chunks, n, shape);
      backend.disposeData(step.out.dataId);
      step = next;
    }
    return step.out;
  };
}
