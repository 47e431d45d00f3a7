/**
 * How a matrix product runs on the webgpu backend: which operand is
 * transposed first and which of TF.js's matmul programs computes it.
 *
 * TF.js's own choice is its 32×32-tile `MatMulPackedProgram` for nearly every
 * size. Timed with GPU timestamps on an NVIDIA H200 (tools/device/
 * matmul_types.ts, the bench model's Linear products), that program reaches
 * about 5 TFLOP/s when neither operand is transposed, but only 0.3–1.2 when
 * one is: it reads a transposed operand across rows, so neighbouring threads
 * touch memory far apart. The bench step spent 32 of its 40 ms of GPU time
 * in such products. A transpose costs a few microseconds (a copy through
 * shared memory), so:
 *
 * - `a · bᵀ` (a Linear layer's forward, x · Wᵀ): b is transposed first and
 *   the product runs untransposed;
 * - `aᵀ · b` (a weight gradient, ∂yᵀ · x): see {@link planMatMul}.
 *
 * Switched off by `FUSELAB_WEBGPU_MATMUL_PLAN=0` (TF.js's own choice for
 * everything), or overridden by a `WEBGPU_MATMUL_PROGRAM_TYPE` set through
 * `FUSELAB_TFJS_FLAGS`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { kSlices, matMulTN } from "./matmul_tn.ts";
import { envSwitch } from "../switches.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** TF.js's webgpu matmul programs, as `WEBGPU_MATMUL_PROGRAM_TYPE` numbers them. */
export const MATMUL_PROGRAM = { auto: -1, splitK: 1, smallOutput: 2, packed: 3 } as const;

/** How one product runs: which operands to transpose first, and the program. */
export interface MatMulPlan {
  /** Operands whose last two axes are swapped first (they are then not transposed in the product). */
  transposeFirst: ("a" | "b")[];
  /** A `WEBGPU_MATMUL_PROGRAM_TYPE` for the product, or -1 for TF.js's own choice. */
  program: number;
  /** fuselab's deterministic split-K module for Aᵀ·B (`webgpu/matmul_tn.ts`) instead of TF.js. */
  splitTN?: boolean;
}

/** A product's shape: op(a) [batch, m, k] · op(b) [batch, k, n]. */
export interface MatMulShape {
  transposeA: boolean;
  transposeB: boolean;
  batch: number;
  m: number;
  n: number;
  k: number;
}

const planSwitch = envSwitch("FUSELAB_WEBGPU_MATMUL_PLAN", true);
const splitTN = envSwitch("FUSELAB_WEBGPU_MATMUL_TN", false);

/**
 * Turns fuselab's split-K Aᵀ·B module on or off (off, the default: TF.js's
 * small-output program); `FUSELAB_WEBGPU_MATMUL_TN=1` turns it on from the
 * start. On the H200 it cut the bench step's GPU time from 6.9 to 5.3 ms,
 * but that step is bound by its CPU side, which the module's two dispatches
 * a product add to: the step was no faster. Models whose step is bound by
 * the GPU gain.
 */
export function setMatMulTN(enabled: boolean): void {
  splitTN.on = enabled;
}

/** Turns the plan on or off (off: TF.js's own choice for every product). */
export function setMatMulPlan(enabled: boolean): void {
  planSwitch.on = enabled;
}

/**
 * The plan for a product on webgpu:
 * - `a · b`: TF.js's choice (its packed program is at its best);
 * - `a · bᵀ`: b transposed first, then TF.js's choice;
 * - `aᵀ · b`: as it is, by the small-output program (2.0–2.7 TFLOP/s on the
 *   H200 for the bench's weight gradients, against 0.3–1.2 packed); or, when
 *   {@link setMatMulTN} is on, unbatched and K is long enough to split, by
 *   fuselab's split-K module (4.9–10.3 TFLOP/s there, `webgpu/matmul_tn.ts`);
 * - `aᵀ · bᵀ`: both transposed first, then TF.js's choice.
 */
export function planMatMul(s: MatMulShape): MatMulPlan {
  if (!s.transposeA) return { transposeFirst: s.transposeB ? ["b"] : [], program: -1 };
  if (!s.transposeB) {
    const split = splitTN.on && s.batch === 1 && kSlices(s.m, s.n, s.k) > 1;
    return {
      transposeFirst: [],
      program: MATMUL_PROGRAM.smallOutput,
      ...(split && { splitTN: true }),
    };
  }
  return { transposeFirst: ["a", "b"], program: -1 };
}

/** The shape of `a`/`b` as a product with these transposes (after TF.js's broadcast rules). */
function productShape(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): MatMulShape {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const batch = Math.max(size(a.shape.slice(0, -2)), size(b.shape.slice(0, -2)));
  return { transposeA, transposeB, batch, m, n, k };
}

/** `x` with its last two axes swapped, by the webgpu Transpose kernel. */
function swapLastAxes(backend: AnyBackend, x: tf.TensorInfo): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  const transpose = tf.getKernel("Transpose", "webgpu")!;
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/**
 * A `BatchMatMul` or `_FusedMatMul` kernel function for webgpu that runs each
 * float32 product by {@link planMatMul}, and anything else by `stock`.
 */
export function matMulKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const flag = Number(tf.env().get("WEBGPU_MATMUL_PROGRAM_TYPE"));
    if (!planSwitch.on || flag >= 0 || a.dtype !== "float32" || b.dtype !== "float32") {
      return stock(args);
    }
    const shape = productShape(a, b, attrs.transposeA, attrs.transposeB);
    const plan = planMatMul(shape);
    const backend = args.backend as AnyBackend;
    const fused = args.attrs as unknown as { activation?: string | null };
    const plain = !args.inputs.bias && !args.inputs.preluActivationWeights &&
      (fused.activation == null || fused.activation === "linear");
    if (plan.splitTN && plain) {
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
      return matMulTN(backend, a, b, shape, [...outer, shape.m, shape.n]);
    }
    const temps: tf.TensorInfo[] = [];
    const inputs = { ...args.inputs };
    const newAttrs = { ...args.attrs };
    for (const x of plan.transposeFirst) {
      const t = swapLastAxes(backend, inputs[x] as tf.TensorInfo);
      temps.push(t);
      inputs[x] = t;
      newAttrs[x === "a" ? "transposeA" : "transposeB"] = false;
    }
    if (plan.program >= 0) tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", plan.program);
    try {
      return stock({ ...args, inputs, attrs: newAttrs });
    } finally {
      if (plan.program >= 0) tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", flag);
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}
