/**
 * C = Aᵀ·B on the webgpu backend for A [K, M] and B [K, N] with a long K and
 * a small output: the weight gradients of Linear layers (∂W = ∂yᵀ·x over
 * batch × sequence rows). TF.js's programs give such products few
 * workgroups, each looping over all of K; here K is split in S slices:
 *
 *   P_s = A[K_s, :]ᵀ · B[K_s, :]  (one workgroup a 64×64 tile of C and slice s)
 *   C = P_0 + P_1 + … + P_{S−1}    (a second dispatch, always in this order)
 *
 * Unlike TF.js's split-K program, which adds the slices into C with float
 * atomics in whatever order the workgroups finish, the sum is in a fixed
 * order: the same inputs give the same bits on every run.
 *
 * A workgroup of 16×16 threads computes a 64×64 tile, each thread a 4×4
 * block, from 16-row slabs of A and B staged in workgroup memory. Rows of A
 * and B are read along M and N, where they are contiguous, so neighbouring
 * threads read neighbouring floats.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { GRID_X, rawDispatch, wrappedGrid } from "./dispatch.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Output tile edge and the K rows staged at once. */
const TILE = 64;
const SLAB = 16;
/** Aim for at least this many workgroups (an H200 has 132 multiprocessors). */
const TARGET_WORKGROUPS = 512;
/** Slices never shorter than this many rows of K. */
const MIN_SLICE = 128;

/** The number of K slices for an M×N output: enough workgroups, slices of ≥ MIN_SLICE rows. */
export function kSlices(m: number, n: number, k: number): number {
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const want = Math.ceil(TARGET_WORKGROUPS / tiles);
  return Math.max(1, Math.min(want, Math.floor(k / MIN_SLICE)));
}

const PRODUCT = `
  struct Uniforms { m : i32, n : i32, k : i32, slice : i32, };
  @group(0) @binding(0) var<storage, read> A : array<f32>;
  @group(0) @binding(1) var<storage, read> B : array<f32>;
  @group(0) @binding(2) var<storage, read_write> P : array<f32>;
  @group(0) @binding(3) var<uniform> u : Uniforms;
  var<workgroup> As : array<f32, ${SLAB * TILE}>;
  var<workgroup> Bs : array<f32, ${SLAB * TILE}>;

  @compute @workgroup_size(16, 16)
  fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
    let tx = i32(lid.x);
    let ty = i32(lid.y);
    let t = ty * 16 + tx;
    let m0 = i32(wg.y) * ${TILE};
    let n0 = i32(wg.x) * ${TILE};
    let k0 = i32(wg.z) * u.slice;
    let k1 = min(u.k, k0 + u.slice);
    var acc : array<vec4<f32>, 4>;
    for (var kb = k0; kb < k1; kb += ${SLAB}) {
      // 256 threads stage a 16×64 slab of A and of B, four floats each.
      for (var q = 0; q < 4; q++) {
        let e = q * 256 + t;
        let r = e / ${TILE};
        let c = e % ${TILE};
        let kk = kb + r;
        var a = 0.0;
        var b = 0.0;
        if (kk < k1) {
          if (m0 + c < u.m) { a = A[kk * u.m + m0 + c]; }
          if (n0 + c < u.n) { b = B[kk * u.n + n0 + c]; }
        }
        As[e] = a;
        Bs[e] = b;
      }
      workgroupBarrier();
      for (var r = 0; r < ${SLAB}; r++) {
        let av = vec4<f32>(As[r * ${TILE} + ty * 4], As[r * ${TILE} + ty * 4 + 1],
                           As[r * ${TILE} + ty * 4 + 2], As[r * ${TILE} + ty * 4 + 3]);
        let bv = vec4<f32>(Bs[r * ${TILE} + tx * 4], Bs[r * ${TILE} + tx * 4 + 1],
                           Bs[r * ${TILE} + tx * 4 + 2], Bs[r * ${TILE} + tx * 4 + 3]);
        acc[0] += av.x * bv;
        acc[1] += av.y * bv;
        acc[2] += av.z * bv;
        acc[3] += av.w * bv;
      }
      workgroupBarrier();
    }
    let base = i32(wg.z) * u.m * u.n;
    for (var i = 0; i < 4; i++) {
      let row = m0 + ty * 4 + i;
      if (row < u.m) {
        for (var j = 0; j < 4; j++) {
          let col = n0 + tx * 4 + j;
          if (col < u.n) { P[base + row * u.n + col] = acc[i][j]; }
        }
      }
    }
  }
`;

const SUM = `
  struct Uniforms { size : i32, slices : i32, };
  @group(0) @binding(0) var<storage, read> P : array<f32>;
  @group(0) @binding(1) var<storage, read_write> C : array<f32>;
  @group(0) @binding(2) var<uniform> u : Uniforms;

  @compute @workgroup_size(256)
  fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
    let i = i32(gid.x + gid.y * ${GRID_X * 256}u);
    if (i >= u.size) { return; }
    var s = P[i];
    for (var q = 1; q < u.slices; q++) { s += P[q * u.size + i]; }
    C[i] = s;
  }
`;

const scratches = new WeakMap<object, tf.TensorInfo>();

/**
 * The backend's buffer for the slices' partial products, of at least `size`
 * floats: one buffer, kept, for every split product (they run one after the
 * other on the GPU), so that a step allocates nothing and its bind groups
 * repeat. It grows to the largest size asked for.
 */
function scratch(backend: AnyBackend, size: number): tf.TensorInfo {
  const had = scratches.get(backend);
  if (had && had.shape[0] >= size) return had;
  if (had) backend.disposeData(had.dataId); // released once the work using it is submitted
  const made = backend.makeTensorInfo([size], "float32");
  scratches.set(backend, made);
  return made;
}

/**
 * Aᵀ·B for float32 A [K, M], B [K, N] (any leading axes of size 1) on the
 * webgpu `backend`, as a new tensor info of `outShape` (M·N elements). Two
 * dispatches when K is split, one when it is not.
 */
export function matMulTN(
  backend: AnyBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  { m, n, k }: { m: number; n: number; k: number },
  outShape: number[],
): tf.TensorInfo {
  const slices = kSlices(m, n, k);
  // Slices a whole number of slabs long, so only the last one is ragged.
  const slice = Math.ceil(Math.ceil(k / slices) / SLAB) * SLAB;
  const used = Math.ceil(k / slice);
  const out = backend.makeTensorInfo(outShape, "float32");
  const partial = used === 1 ? out : scratch(backend, used * m * n);
  rawDispatch(backend, {
    key: "fuselab_matmul_tn",
    code: PRODUCT,
    tensors: [a, b, partial],
    uniforms: [m, n, k, slice].map((x) => ({ type: "int32", data: [x] })),
    workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), used],
  });
  if (used > 1) {
    const size = m * n;
    rawDispatch(backend, {
      key: "fuselab_matmul_tn_sum",
      code: SUM,
      tensors: [partial, out],
      uniforms: [size, used].map((x) => ({ type: "int32", data: [x] })),
      workgroups: wrappedGrid(Math.ceil(size / 256)),
    });
  }
  return out;
}
