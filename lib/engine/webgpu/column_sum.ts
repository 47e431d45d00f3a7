/**
 * `Sum` over every axis but the last on the webgpu backend in one dispatch:
 * the bias gradients of a model's Linear layers (Σ over the rows of ∂y).
 * TF.js's own `Sum` transposes first whenever the reduced axes are not the
 * last ones, so each such sum cost two dispatches (13 a bench step).
 *
 * A workgroup takes 16 columns and 16 row lanes per column, so that a GPU
 * has many threads at work and each a short loop ({@link columnSumsMain}).
 * Rows come in chunks of 4096 (Mesa's llvmpipe silently ends a shader
 * invocation's loops after 65,535 iterations); with more than one chunk the
 * chunks' sums are summed the same way. Every other `Sum` goes to TF.js's
 * kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { rawDispatch } from "./dispatch.ts";
import { envSwitch } from "../switches.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Columns of a workgroup tile, and the row lanes that share each column. */
const TILE_COLS = 16;
const TILE_LANES = 16;
/** Rows of one chunk (the grid's y): Mesa's llvmpipe ends a shader's loops after 65,535 iterations. */
export const COLUMN_CHUNK = 4096;

/**
 * WGSL `main` for sums over rows of [rows, n] data, one per column and
 * chunk of {@link COLUMN_CHUNK} rows: a workgroup takes 16 columns, and 16
 * row lanes per column add every 16th row of the chunk (neighbouring threads
 * read neighbouring columns), then the lanes' sums are added in the
 * workgroup. `terms[k]` is the WGSL of sum k's term at element `i` of row
 * `r`; sum k of chunk c, column j is written to `outs[k][c · n + j]`. The
 * module declares the bindings and a uniform `u` with `n` and `rows`.
 */
export function columnSumsMain(terms: string[], outs: string[]): string {
  const parts = terms.map((_, k) =>
    `var<workgroup> part${k} : array<f32, ${TILE_COLS * TILE_LANES}>;`
  );
  const sums = terms.map((_, k) => `var s${k} = 0.0;`).join(" ");
  return `
  ${parts.join(" ")}
  @compute @workgroup_size(${TILE_COLS}, ${TILE_LANES})
  fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
    let j = i32(wg.x) * ${TILE_COLS} + i32(lid.x);
    let first = i32(wg.y) * ${COLUMN_CHUNK};
    let last = min(u.rows, first + ${COLUMN_CHUNK});
    ${sums}
    if (j < u.n) {
      for (var r = first + i32(lid.y); r < last; r += ${TILE_LANES}) {
        let i = r * u.n + j;
        ${terms.map((t, k) => `s${k} += ${t};`).join(" ")}
      }
    }
    let at = lid.y * ${TILE_COLS}u + lid.x;
    ${terms.map((_, k) => `part${k}[at] = s${k};`).join(" ")}
    workgroupBarrier();
    for (var half = ${TILE_LANES / 2}u; half > 0u; half = half >> 1u) {
      if (lid.y < half) {
        ${
    terms.map((_, k) => `part${k}[at] = part${k}[at] + part${k}[at + half * ${TILE_COLS}u];`).join(
      " ",
    )
  }
      }
      workgroupBarrier();
    }
    if (lid.y == 0u && j < u.n) {
      ${outs.map((o, k) => `${o}[i32(wg.y) * u.n + j] = part${k}[lid.x];`).join(" ")}
    }
  }`;
}

/** The grid of {@link columnSumsMain} over [rows, n]: column tiles by chunks of rows. */
export function columnSumsGrid(rows: number, n: number): [number, number, number] {
  return [Math.ceil(n / TILE_COLS), Math.ceil(rows / COLUMN_CHUNK), 1];
}

const COLUMNS = `
  struct Uniforms { n : i32, rows : i32, };
  @group(0) @binding(0) var<storage, read> X : array<f32>;
  @group(0) @binding(1) var<storage, read_write> Y : array<f32>;
  @group(0) @binding(2) var<uniform> u : Uniforms;
  ${columnSumsMain(["X[i]"], ["Y"])}
`;

const columnSum = envSwitch("FUSELAB_WEBGPU_COLUMN_SUM", true);

/**
 * Turns the one-dispatch column sum on (the default) or off, for comparisons
 * and tests; `FUSELAB_WEBGPU_COLUMN_SUM=0` turns it off from the start.
 */
export function setColumnSum(enabled: boolean): void {
  columnSum.on = enabled;
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
  const chunks = Math.ceil(rows / COLUMN_CHUNK);
  const out = backend.makeTensorInfo(chunks === 1 ? shape : [chunks, n], "float32");
  rawDispatch(backend, {
    key: "fuselab_column_sum",
    code: COLUMNS,
    tensors: [x, out],
    uniforms: [{ type: "int32", data: [n] }, { type: "int32", data: [rows] }],
    workgroups: columnSumsGrid(rows, n),
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
    if (
      !columnSum.on || x.dtype !== "float32" || !leadingAxes(axis, r) ||
      x.shape.some((d) => d === 0)
    ) {
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
