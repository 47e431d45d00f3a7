/**
 * The Annotated Transformer's LayerNorm on the webgpu backend in six
 * dispatches (two forward, four backward) instead of about thirty: the same
 * formula and gradient as `lib/engine/accel/layer_norm.ts`, as TF.js WebGPU
 * programs.
 *
 * Forward: per row μ and σ (one thread a row), then y element-wise.
 * Backward: per row Σg and Σg·(x − μ) with g = ∂y·a (one thread a row), then
 * ∂x element-wise, then ∂a and ∂b (one thread a column, summing over rows).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { layerNormApplies } from "./accel/layer_norm.ts";
import { flatProgram } from "./webgpu_dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

type Kind = "stats" | "y" | "rowsums" | "dx" | "da" | "db";

const INPUTS: Record<Kind, string[]> = {
  stats: ["X"],
  y: ["X", "A", "B", "S"],
  rowsums: ["X", "A", "S", "DY"],
  dx: ["X", "A", "S", "DY", "R"],
  da: ["X", "S", "DY"],
  db: ["DY"],
};

const BODY: Record<Kind, string> = {
  // index = row (threads past `rows` idle): μ and σ of the row.
  stats: `if (index < uniforms.rows) {
      let o = index * uniforms.n;
      var sum = 0.0;
      for (var j = 0; j < uniforms.n; j++) { sum += X[o + j]; }
      let mu = sum / f32(uniforms.n);
      var ss = 0.0;
      for (var j = 0; j < uniforms.n; j++) { let c = X[o + j] - mu; ss += c * c; }
      result[2 * index] = mu;
      result[2 * index + 1] = sqrt(ss / f32(max(uniforms.n - 1, 1)));
    }`,
  y: `if (index < uniforms.size) {
      let r = index / uniforms.n;
      let j = index - r * uniforms.n;
      let s = S[2 * r + 1] + uniforms.eps;
      result[index] = A[j] * ((X[index] - S[2 * r]) / s) + B[j];
    }`,
  // index = row: Σ g and Σ g·(x − μ), g = ∂y·a.
  rowsums: `if (index < uniforms.rows) {
      let o = index * uniforms.n;
      let mu = S[2 * index];
      var sg = 0.0;
      var sgx = 0.0;
      for (var j = 0; j < uniforms.n; j++) {
        let g = DY[o + j] * A[j];
        sg += g;
        sgx += g * (X[o + j] - mu);
      }
      result[2 * index] = sg;
      result[2 * index + 1] = sgx;
    }`,
  dx: `if (index < uniforms.size) {
      let r = index / uniforms.n;
      let j = index - r * uniforms.n;
      let sigma = S[2 * r + 1];
      let s = sigma + uniforms.eps;
      let d = f32(max(uniforms.n - 1, 1));
      var k = 0.0;
      if (sigma > 0.0) { k = R[2 * r + 1] / (s * s * d * sigma); }
      let g = DY[index] * A[j];
      result[index] = (g - R[2 * r] / f32(uniforms.n)) / s - (X[index] - S[2 * r]) * k;
    }`,
  // index = column: Σ over rows.
  da: `if (index < uniforms.n) {
      var acc = 0.0;
      for (var r = 0; r < uniforms.rows; r++) {
        let i = r * uniforms.n + index;
        acc += DY[i] * ((X[i] - S[2 * r]) / (S[2 * r + 1] + uniforms.eps));
      }
      result[index] = acc;
    }`,
  db: `if (index < uniforms.n) {
      var acc = 0.0;
      for (var r = 0; r < uniforms.rows; r++) { acc += DY[r * uniforms.n + index]; }
      result[index] = acc;
    }`,
};

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
  if (typeof backend.runWebGPUProgram !== "function") return null;
  const rows = x.size / n;
  const uniforms = [
    { type: "int32", data: [n] },
    { type: "int32", data: [rows] },
    { type: "float32", data: [eps] },
  ];
  const run = (kind: Kind, shape: number[], inputs: tf.Tensor[]): tf.Tensor =>
    tf.engine().makeTensorFromTensorInfo(
      backend.runWebGPUProgram(
        flatProgram({
          key: `fuselab_layernorm_${kind}`,
          inputs: INPUTS[kind],
          outputShape: shape,
          uniforms: "n : i32, rows : i32, eps : f32,",
          body: BODY[kind],
        }),
        inputs,
        "float32",
        uniforms,
      ),
    );
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, ai, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const stats = run("stats", [rows, 2], [xi]);
    const y = run("y", xi.shape, [xi, ai, bi, stats]);
    save([xi, ai, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sa, ss] = saved;
        const sums = run("rowsums", [rows, 2], [sx, sa, ss, dy]);
        const dx = run("dx", sx.shape, [sx, sa, ss, dy, sums]);
        sums.dispose();
        return [dx, run("da", [n], [sx, ss, dy]), run("db", [n], [dy])];
      },
    };
  });
  return op(x, a, b) as tf.Tensor;
}
