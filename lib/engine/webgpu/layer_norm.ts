/**
 * The Annotated Transformer's LayerNorm on the webgpu backend in three
 * dispatches (one forward, two backward) instead of about thirty: the same
 * formula and gradient as `lib/engine/blas/layer_norm.ts`, as own WGSL
 * modules recorded with {@link rawDispatch} (each writes two buffers or
 * reduces inside a workgroup, which a TF.js program cannot).
 *
 * Forward: one workgroup a row; μ and σ by workgroup sums, then y; writes y
 * and the row's (μ, σ) for the backward pass.
 * Backward: one workgroup a row sums g = ∂y·a and g·(x − μ) and writes ∂x;
 * then ∂a and ∂b are summed over the rows as the column sums are
 * (`webgpu/column_sum.ts`; chunks of 4096 rows summed afterwards).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { layerNormApplies } from "../blas/layer_norm.ts";
import { GRID_X, rawRecorder, wgslWorkgroupReduce, wrappedGrid } from "./dispatch.ts";
import { columnSumsGrid, columnSumsMain } from "./column_sum.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Threads of a row's workgroup. */
const WG = 64;

const HEADER = `
  struct Uniforms { n : i32, rows : i32, eps : f32, };
  const WG : u32 = ${WG}u;
  ${wgslWorkgroupReduce("total", WG, (a, b) => `${a} + ${b}`)}
`;

const ROW_MAIN = `@compute @workgroup_size(${WG})
  fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
    let r = i32(wg.x + wg.y * ${GRID_X}u);
    if (r >= u.rows) { return; }
    let t = lid.x;
    let o = r * u.n;`;

/** y and (μ, σ) of each row. Bindings: X, A, B, Y, S. */
const FORWARD = `${HEADER}
  @group(0) @binding(0) var<storage, read> X : array<f32>;
  @group(0) @binding(1) var<storage, read> A : array<f32>;
  @group(0) @binding(2) var<storage, read> B : array<f32>;
  @group(0) @binding(3) var<storage, read_write> Y : array<f32>;
  @group(0) @binding(4) var<storage, read_write> S : array<f32>;
  @group(0) @binding(5) var<uniform> u : Uniforms;
  ${ROW_MAIN}
    var acc = 0.0;
    for (var j = i32(t); j < u.n; j += i32(WG)) { acc += X[o + j]; }
    let mu = total(acc, t) / f32(u.n);
    acc = 0.0;
    for (var j = i32(t); j < u.n; j += i32(WG)) { let c = X[o + j] - mu; acc += c * c; }
    let sigma = sqrt(total(acc, t) / f32(max(u.n - 1, 1)));
    let s = sigma + u.eps;
    for (var j = i32(t); j < u.n; j += i32(WG)) {
      Y[o + j] = A[j] * ((X[o + j] - mu) / s) + B[j];
    }
    if (t == 0u) { S[2 * r] = mu; S[2 * r + 1] = sigma; }
  }
`;

/** ∂x of each row. Bindings: X, A, S, DY, DX. */
const BACKWARD_X = `${HEADER}
  @group(0) @binding(0) var<storage, read> X : array<f32>;
  @group(0) @binding(1) var<storage, read> A : array<f32>;
  @group(0) @binding(2) var<storage, read> S : array<f32>;
  @group(0) @binding(3) var<storage, read> DY : array<f32>;
  @group(0) @binding(4) var<storage, read_write> DX : array<f32>;
  @group(0) @binding(5) var<uniform> u : Uniforms;
  ${ROW_MAIN}
    let mu = S[2 * r];
    let sigma = S[2 * r + 1];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = i32(t); j < u.n; j += i32(WG)) {
      let g = DY[o + j] * A[j];
      sg += g;
      sgx += g * (X[o + j] - mu);
    }
    sg = total(sg, t);
    sgx = total(sgx, t);
    let s = sigma + u.eps;
    let d = f32(max(u.n - 1, 1));
    var k = 0.0;
    if (sigma > 0.0) { k = sgx / (s * s * d * sigma); }
    for (var j = i32(t); j < u.n; j += i32(WG)) {
      let g = DY[o + j] * A[j];
      DX[o + j] = (g - sg / f32(u.n)) / s - (X[o + j] - mu) * k;
    }
  }
`;

/** ∂a and ∂b: sums over the rows (chunks of them), as the column sums do. Bindings: X, S, DY, DA, DB. */
const BACKWARD_AB = `
  struct Uniforms { n : i32, rows : i32, eps : f32, };
  @group(0) @binding(0) var<storage, read> X : array<f32>;
  @group(0) @binding(1) var<storage, read> S : array<f32>;
  @group(0) @binding(2) var<storage, read> DY : array<f32>;
  @group(0) @binding(3) var<storage, read_write> DA : array<f32>;
  @group(0) @binding(4) var<storage, read_write> DB : array<f32>;
  @group(0) @binding(5) var<uniform> u : Uniforms;
  ${columnSumsMain(["DY[i] * ((X[i] - S[2 * r]) / (S[2 * r + 1] + u.eps))", "DY[i]"], ["DA", "DB"])}
`;

/**
 * LN(x) = a · (x − μ) / (σ + ε) + b over the last axis (σ the unbiased std)
 * on webgpu, or `null` where it does not apply (not webgpu, not float32, gain
 * and shift not [n]). Differentiable w.r.t. x, a and b.
 */
export function fusedLayerNormWebGPU(
  x: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  eps: number,
): tf.Tensor | null {
  if (tf.getBackend() !== "webgpu" || !layerNormApplies(x, a, b)) return null;
  const n = x.shape[x.rank - 1];
  const backend = tf.backend() as AnyBackend;
  if (typeof backend.makeTensorInfo !== "function") return null;
  const rows = x.size / n;
  const uniforms = [
    { type: "int32", data: [n] },
    { type: "int32", data: [rows] },
    { type: "float32", data: [eps] },
  ];
  const byRow = wrappedGrid(rows);
  /** Records `code` over `inputs` into fresh outputs of `shapes`, returned as tensors. */
  const run = rawRecorder(backend, uniforms);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, ai, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, stats] = run(
      "fuselab_layernorm",
      FORWARD,
      [xi, ai, bi],
      [xi.shape, [rows, 2]],
      byRow,
    );
    save([xi, ai, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sa, ss] = saved;
        const [dx] = run("fuselab_layernorm_dx", BACKWARD_X, [sx, sa, ss, dy], [sx.shape], byRow);
        const grid = columnSumsGrid(rows, n);
        const chunks = grid[1];
        const shapes = [[chunks, n], [chunks, n]];
        const parts = run("fuselab_layernorm_dadb", BACKWARD_AB, [sx, ss, dy], shapes, grid);
        // Reshaping shares the data (no dispatch); more chunks are summed by TF.js.
        return [dx, ...parts.map((p) => chunks === 1 ? p.reshape([n]) : p.sum(0))];
      },
    };
  });
  return op(x, a, b) as tf.Tensor;
}
