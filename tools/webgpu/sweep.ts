/**
 * The kernel sweep: record every kernel call a workload makes on the cpu
 * backend (forward and gradient), then replay each distinct call on the cpu
 * and webgpu backends and compare the results.
 *
 * Besides the calls as recorded, each is replayed in three input variants
 * that reach WebGPU shaders through different buffer types:
 * - `cast`: float inputs rounded and made by `cast` from int32 (TF.js keeps
 *   the int32 buffer and relabels it float32);
 * - `int32`: float inputs rounded and given as int32;
 * - `bool`: float inputs given as bool (non-zero → true).
 * A variant the cpu backend rejects (a kernel without that dtype) is skipped.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor as plain data. */
export interface PlainTensor {
  dtype: tf.DataType;
  shape: number[];
  values: number[];
}

/** One recorded kernel call. */
export interface KernelCall {
  kernel: string;
  /** Inputs by name, or by position for kernels that take a list (Concat, AddN, Pack). */
  inputs: Record<string, PlainTensor>;
  list: boolean;
  attrs: Record<string, unknown>;
}

/** Variants of a call's inputs (see the module doc). */
export type SweepVariant = "recorded" | "cast" | "int32" | "bool";

/** The outcome of one replayed call. */
export interface SweepCase {
  kernel: string;
  variant: SweepVariant;
  /** Input signature, e.g. `a:float32[2,3] b:int32[3]`. */
  signature: string;
  status: "ok" | "mismatch" | "error" | "skipped";
  /** Largest |webgpu − cpu| over the outputs (NaN/∞ must match exactly). */
  maxAbsDiff: number;
  /** What went wrong, for mismatch/error/skipped. */
  detail?: string;
}

/**
 * Kernels whose TF.js op accepts float32 only (`tf.log` of an int32 tensor
 * throws), so their int32/bool variants cannot occur.
 */
export const FLOAT_ONLY_KERNELS: ReadonlySet<string> = new Set([
  "Floor",
  "Ceil",
  "Round",
  "Log",
  "Sigmoid",
  "Softmax",
  "LogSoftmax",
  "Sqrt",
  "Rsqrt",
  "Tanh",
  "Erf",
  "Elu",
  "Selu",
  "Softplus",
  "Sin",
  "Cos",
  "Reciprocal",
  "Expm1",
  "Atan2",
  "Acos",
  "Asin",
]);
/** Kernels whose op accepts bool only: no int32 variant. */
export const BOOL_ONLY_KERNELS: ReadonlySet<string> = new Set([
  "LogicalNot",
  "LogicalAnd",
  "LogicalOr",
  "LogicalXor",
]);
/**
 * Where the cpu backend, not webgpu, departs from TensorFlow's output dtype:
 * the values are compared, the dtype is not.
 */
export const CPU_DTYPE_QUIRKS: Readonly<Record<string, string>> = {
  UnsortedSegmentSum: "cpu returns float32 for int32/bool input; TensorFlow keeps int32",
};

const toPlain = (t: tf.Tensor): PlainTensor => ({
  dtype: t.dtype,
  shape: [...t.shape],
  values: Array.from(t.dataSync() as ArrayLike<number>),
});

/**
 * Runs `work` on the current backend (use cpu) and returns every kernel call
 * made through the engine, including those of gradients.
 */
export async function recordKernels(work: () => Promise<void> | void): Promise<KernelCall[]> {
  const engine = tf.engine() as unknown as {
    runKernel: (name: string, inputs: unknown, attrs: unknown) => unknown;
  };
  const original = engine.runKernel;
  const calls: KernelCall[] = [];
  let depth = 0;
  engine.runKernel = function (this: unknown, name, inputs, attrs) {
    if (depth === 0) {
      const list = Array.isArray(inputs);
      const named: Record<string, PlainTensor> = {};
      for (const [k, v] of Object.entries(inputs as Record<string, tf.Tensor>)) {
        if (v instanceof tf.Tensor && !v.isDisposed && v.dtype !== "string") named[k] = toPlain(v);
      }
      calls.push({
        kernel: name,
        inputs: named,
        list,
        attrs: JSON.parse(JSON.stringify(attrs ?? {})),
      });
    }
    depth++;
    try {
      return original.call(this, name, inputs, attrs);
    } finally {
      depth--;
    }
  };
  try {
    await work();
  } finally {
    engine.runKernel = original;
  }
  return calls;
}

const sig = (c: KernelCall) =>
  Object.entries(c.inputs).map(([k, t]) => `${k}:${t.dtype}[${t.shape}]`).join(" ");

/**
 * Distinct calls: one per kernel, input signature and attributes, at most
 * `perKernel` per kernel name (the first ones recorded).
 */
export function distinctCalls(calls: KernelCall[], perKernel = 3): KernelCall[] {
  const seen = new Set<string>();
  const count = new Map<string, number>();
  const out: KernelCall[] = [];
  for (const c of calls) {
    const key = `${c.kernel}|${sig(c)}|${JSON.stringify(c.attrs)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const n = count.get(c.kernel) ?? 0;
    if (n >= perKernel) continue;
    count.set(c.kernel, n + 1);
    out.push(c);
  }
  return out;
}

function variantInputs(
  c: KernelCall,
  v: SweepVariant,
): Record<string, { t: PlainTensor; viaCast: boolean }> | undefined {
  const out: Record<string, { t: PlainTensor; viaCast: boolean }> = {};
  let changed = v === "recorded";
  for (const [k, t] of Object.entries(c.inputs)) {
    if (v === "recorded" || t.dtype !== "float32") {
      out[k] = { t, viaCast: false };
      continue;
    }
    changed = true;
    // Small integers keep every kernel's result in range and exact.
    const ints = t.values.map((x) => Math.max(-4, Math.min(4, Math.round(x * 2))));
    if (v === "cast") out[k] = { t: { ...t, values: ints }, viaCast: true };
    else if (v === "int32") out[k] = { t: { ...t, dtype: "int32", values: ints }, viaCast: false };
    else {out[k] = {
        t: { ...t, dtype: "bool", values: ints.map((x) => (x ? 1 : 0)) },
        viaCast: false,
      };}
  }
  return changed ? out : undefined;
}

async function runOn(
  backend: "cpu" | "webgpu",
  c: KernelCall,
  inputs: Record<string, { t: PlainTensor; viaCast: boolean }>,
): Promise<PlainTensor[]> {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  const made: tf.Tensor[] = [];
  const named: Record<string, tf.Tensor> = {};
  for (const [k, { t, viaCast }] of Object.entries(inputs)) {
    const x = viaCast
      ? tf.cast(tf.tensor(t.values, t.shape, "int32"), "float32")
      : tf.tensor(t.values, t.shape, t.dtype);
    made.push(x);
    named[k] = x;
  }
  const args = c.list ? Object.keys(named).sort((a, b) => +a - +b).map((k) => named[k]) : named;
  let outs: tf.Tensor[] = [];
  try {
    const r = tf.engine().runKernel(
      c.kernel,
      args as unknown as tf.NamedTensorMap,
      c.attrs as never,
    );
    outs = Array.isArray(r) ? r : [r as tf.Tensor];
    const plain: PlainTensor[] = [];
    for (const o of outs) {
      plain.push({ dtype: o.dtype, shape: [...o.shape], values: Array.from(await o.data()) });
    }
    return plain;
  } finally {
    tf.dispose([...made, ...outs]);
  }
}

function compare(
  a: PlainTensor[],
  b: PlainTensor[],
  rtol: number,
  atol: number,
  ignoreDtype: boolean,
) {
  if (a.length !== b.length) return { ok: false, diff: Infinity, why: "output count differs" };
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i].shape.join() !== b[i].shape.join()) {
      return {
        ok: false,
        diff: Infinity,
        why: `output ${i} shape [${b[i].shape}] ≠ [${a[i].shape}]`,
      };
    }
    if (a[i].dtype !== b[i].dtype && !ignoreDtype) {
      return { ok: false, diff: Infinity, why: `output ${i} dtype ${b[i].dtype} ≠ ${a[i].dtype}` };
    }
    const x = a[i].values, y = b[i].values;
    for (let j = 0; j < x.length; j++) {
      if (Number.isNaN(x[j]) || !Number.isFinite(x[j])) {
        if (!Object.is(x[j], y[j]) && !(Number.isNaN(x[j]) && Number.isNaN(y[j]))) {
          return { ok: false, diff: Infinity, why: `output ${i}[${j}] ${y[j]} ≠ ${x[j]}` };
        }
        continue;
      }
      const d = Math.abs(x[j] - y[j]);
      if (!(d <= atol + rtol * Math.abs(x[j]))) {
        return { ok: false, diff: d, why: `output ${i}[${j}] webgpu ${y[j]} vs cpu ${x[j]}` };
      }
      worst = Math.max(worst, d);
    }
  }
  return { ok: true, diff: worst, why: "" };
}

/** Options of {@link sweepKernels}. */
export interface SweepOptions {
  variants?: SweepVariant[];
  /** Relative tolerance for float outputs (1e-4). */
  rtol?: number;
  /** Absolute tolerance for float outputs (1e-5). */
  atol?: number;
}

/**
 * Replays `calls` on cpu then webgpu (with `WEBGPU_CPU_FORWARD` off, so that
 * every call runs a GPU shader) and compares. Leaves the webgpu backend current.
 */
export async function sweepKernels(calls: KernelCall[], opts: SweepOptions = {}) {
  const variants = opts.variants ?? ["recorded", "cast", "int32", "bool"];
  const rtol = opts.rtol ?? 1e-4, atol = opts.atol ?? 1e-5;
  const jobs: { c: KernelCall; v: SweepVariant; inputs: ReturnType<typeof variantInputs> }[] = [];
  for (const c of calls) {
    for (const v of variants) {
      const inputs = variantInputs(c, v);
      if (inputs) jobs.push({ c, v, inputs });
    }
  }
  const ref: (PlainTensor[] | string)[] = [];
  for (const j of jobs) {
    try {
      ref.push(await runOn("cpu", j.c, j.inputs!));
    } catch (e) {
      ref.push((e as Error).message.split("\n")[0]);
    }
  }
  const forward = tf.env().getBool("WEBGPU_CPU_FORWARD");
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  const cases: SweepCase[] = [];
  try {
    for (let i = 0; i < jobs.length; i++) {
      const { c, v, inputs } = jobs[i];
      const signature = Object.entries(inputs!).map(([k, { t, viaCast }]) =>
        `${k}:${viaCast ? "cast→" : ""}${t.dtype}[${t.shape}]`
      ).join(" ");
      const base = { kernel: c.kernel, variant: v, signature };
      const r = ref[i];
      const unreachable = (v === "int32" || v === "bool") && FLOAT_ONLY_KERNELS.has(c.kernel)
        ? "the op takes float32 only"
        : v === "int32" && BOOL_ONLY_KERNELS.has(c.kernel)
        ? "the op takes bool only"
        : "";
      if (unreachable) {
        cases.push({ ...base, status: "skipped", maxAbsDiff: 0, detail: unreachable });
        continue;
      }
      if (typeof r === "string") {
        cases.push({ ...base, status: "skipped", maxAbsDiff: 0, detail: `cpu: ${r}` });
        continue;
      }
      try {
        const got = await runOn("webgpu", c, inputs!);
        const quirk = v !== "recorded" && c.kernel in CPU_DTYPE_QUIRKS;
        const cmp = compare(r, got, rtol, atol, quirk);
        cases.push({
          ...base,
          status: cmp.ok ? "ok" : "mismatch",
          maxAbsDiff: cmp.diff,
          detail: cmp.ok ? undefined : cmp.why,
        });
      } catch (e) {
        cases.push({
          ...base,
          status: "error",
          maxAbsDiff: Infinity,
          detail: (e as Error).message,
        });
      }
    }
  } finally {
    tf.env().set("WEBGPU_CPU_FORWARD", forward);
  }
  return cases;
}
