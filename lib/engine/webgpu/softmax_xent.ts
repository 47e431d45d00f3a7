/**
 * Softmax cross-entropy on the webgpu backend in three dispatches (two
 * forward, one backward) instead of about twenty: the same value and gradient
 * as `crossEntropy` in `lib/nn/losses.ts`, as own WGSL modules recorded
 * with {@link rawDispatch}.
 *
 *   lse_r = m_r + log Σ_j exp(z_rj − m_r),  m_r = max_j z_rj
 *   loss  = s · Σ_r (lse_r − z_r,y_r),       ∂z_rj = s · ∂loss · (exp(z_rj − lse_r) − [j = y_r])
 *
 * with s = 1/N for the mean and 1 for the sum; a row whose label is outside
 * [0, C) adds 0 and gets no gradient (it still counts in N).
 *
 * Forward: one workgroup a row writes lse_r and the row's loss; one workgroup
 * sums the rows. Backward: one thread an element.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { GRID_X, rawRecorder, wgslWorkgroupReduce, wrappedGrid } from "./dispatch.ts";
import { envSwitch } from "../switches.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

const WG = 64;
const SUM_WG = 256;

const UNIFORMS = `struct Uniforms { c : i32, rows : i32, scale : f32, };`;

/** lse and loss of each row. Bindings: Z, Y, LSE, LOSS. */
const ROWS = `${UNIFORMS}
  @group(0) @binding(0) var<storage, read> Z : array<f32>;
  @group(0) @binding(1) var<storage, read> Y : array<i32>;
  @group(0) @binding(2) var<storage, read_write> LSE : array<f32>;
  @group(0) @binding(3) var<storage, read_write> LOSS : array<f32>;
  @group(0) @binding(4) var<uniform> u : Uniforms;
  ${wgslWorkgroupReduce("rowMax", WG, (a, b) => `max(${a}, ${b})`)}
  ${wgslWorkgroupReduce("rowSum", WG, (a, b) => `${a} + ${b}`)}
  @compute @workgroup_size(${WG})
  fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
    let r = i32(wg.x + wg.y * ${GRID_X}u);
    if (r >= u.rows) { return; }
    let t = lid.x;
    let o = r * u.c;
    var m = -3.0e38;
    for (var j = i32(t); j < u.c; j += ${WG}) { m = max(m, Z[o + j]); }
    m = rowMax(m, t);
    var s = 0.0;
    for (var j = i32(t); j < u.c; j += ${WG}) { s += exp(Z[o + j] - m); }
    let lse = m + log(rowSum(s, t));
    if (t == 0u) {
      let y = Y[r];
      LSE[r] = lse;
      LOSS[r] = select(0.0, lse - Z[o + clamp(y, 0, u.c - 1)], y >= 0 && y < u.c);
    }
  }
`;

/** scale · Σ LOSS in one workgroup. Bindings: LOSS, OUT. */
const TOTAL = `${UNIFORMS}
  @group(0) @binding(0) var<storage, read> LOSS : array<f32>;
  @group(0) @binding(1) var<storage, read_write> OUT : array<f32>;
  @group(0) @binding(2) var<uniform> u : Uniforms;
  ${wgslWorkgroupReduce("allSum", SUM_WG, (a, b) => `${a} + ${b}`)}
  @compute @workgroup_size(${SUM_WG})
  fn main(@builtin(local_invocation_id) lid : vec3<u32>) {
    var s = 0.0;
    for (var r = i32(lid.x); r < u.rows; r += ${SUM_WG}) { s += LOSS[r]; }
    s = allSum(s, lid.x);
    if (lid.x == 0u) { OUT[0] = s * u.scale; }
  }
`;

/** ∂z, one thread an element. Bindings: Z, Y, LSE, DY, DZ. */
const BACKWARD = `${UNIFORMS}
  @group(0) @binding(0) var<storage, read> Z : array<f32>;
  @group(0) @binding(1) var<storage, read> Y : array<i32>;
  @group(0) @binding(2) var<storage, read> LSE : array<f32>;
  @group(0) @binding(3) var<storage, read> DY : array<f32>;
  @group(0) @binding(4) var<storage, read_write> DZ : array<f32>;
  @group(0) @binding(5) var<uniform> u : Uniforms;
  @compute @workgroup_size(${SUM_WG})
  fn main(@builtin(global_invocation_id) id : vec3<u32>) {
    let i = i32(id.x + id.y * ${GRID_X * SUM_WG}u);
    if (i >= u.rows * u.c) { return; }
    let r = i / u.c;
    let y = Y[r];
    var g = exp(Z[i] - LSE[r]);
    if (i - r * u.c == y) { g -= 1.0; }
    DZ[i] = select(0.0, g * (u.scale * DY[0]), y >= 0 && y < u.c);
  }
`;

const fusedXent = envSwitch("FUSELAB_WEBGPU_FUSED_XENT", true);

/**
 * Turns the fused cross-entropy on webgpu on (the default) or off, for
 * comparisons and tests; `FUSELAB_WEBGPU_FUSED_XENT=0` turns it off from the start.
 */
export function setFusedXentWebGPU(on: boolean): void {
  fusedXent.on = on;
}

/**
 * Softmax cross-entropy of `logits` [N, C] (float32) against int32 `labels`
 * [N] on webgpu, differentiable w.r.t. `logits`; `null` where it does not
 * apply (not webgpu, turned off, other dtypes or shapes, N = 0).
 */
export function softmaxCrossEntropyWebGPU(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  reduction: "mean" | "sum" = "mean",
): tf.Scalar | null {
  if (!fusedXent.on || tf.getBackend() !== "webgpu") return null;
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) return null;
  if (logits.dtype !== "float32" || labels.dtype !== "int32") return null;
  const [rows, c] = logits.shape;
  if (rows === 0 || c === 0) return null;
  const backend = tf.backend() as AnyBackend;
  if (typeof backend.makeTensorInfo !== "function") return null;
  const scale = reduction === "mean" ? 1 / rows : 1;
  const uniforms = [
    { type: "int32", data: [c] },
    { type: "int32", data: [rows] },
    { type: "float32", data: [scale] },
  ];
  /** Records `code` over `inputs` into fresh float32 outputs of `shapes`. */
  const run = rawRecorder(backend, uniforms);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [lse, perRow] = run(
      "fuselab_xent_rows",
      ROWS,
      [z, labels],
      [[rows], [rows]],
      wrappedGrid(rows),
    );
    const [loss] = run("fuselab_xent_total", TOTAL, [perRow], [[]], [1, 1, 1]);
    perRow.dispose();
    save([z, lse, labels]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sz, slse, sy] = saved;
        const groups = Math.ceil((rows * c) / SUM_WG);
        return run(
          "fuselab_xent_grad",
          BACKWARD,
          [sz, sy, slse, dy],
          [[rows, c]],
          wrappedGrid(groups),
        );
      },
    };
  });
  return op(logits) as tf.Scalar;
}
