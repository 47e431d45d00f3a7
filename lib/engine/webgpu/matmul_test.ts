import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { probeWebGPU } from "./backend.ts";
import { MATMUL_PROGRAM, planMatMul, setMatMulPlan, setMatMulTN } from "./matmul.ts";
import { kSlices } from "./matmul_tn.ts";
import { dispatchCounters } from "./dispatch.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu matmul tests: ${probe.why}`);

/** Deterministic values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((i + seed) * 12.9898) % 1);
}

Deno.test("planMatMul: untransposed products as they are, b·ᵀ and both transposed first, aᵀ·b split over K when K is long, else by the small-output program", () => {
  const s = { batch: 1, m: 2048, n: 256, k: 256 };
  // The bench's weight gradients: 256×256 and 1024×256 outputs over 2048 rows.
  assert.equal(kSlices(256, 256, 2048), 16);
  assert.equal(kSlices(1024, 256, 2048), 8);
  assert.equal(kSlices(2048, 2048, 4096), 1, "enough tiles: no split");
  assert.equal(kSlices(64, 64, 100), 1, "short K: no split");
  const tn = { ...s, m: 256, k: 2048, transposeA: true, transposeB: false };
  assert.deepEqual(planMatMul(tn), {
    transposeFirst: [],
    program: MATMUL_PROGRAM.smallOutput,
  }, "split-K off by default");
  setMatMulTN(true);
  try {
    assert.deepEqual(planMatMul(tn), {
      transposeFirst: [],
      program: MATMUL_PROGRAM.smallOutput,
      splitTN: true,
    });
    assert.deepEqual(
      planMatMul({ ...tn, batch: 3 }),
      { transposeFirst: [], program: MATMUL_PROGRAM.smallOutput },
      "batched: TF.js's program",
    );
  } finally {
    setMatMulTN(false);
  }
  assert.deepEqual(planMatMul({ ...s, transposeA: false, transposeB: false }), {
    transposeFirst: [],
    program: -1,
  });
  assert.deepEqual(planMatMul({ ...s, transposeA: false, transposeB: true }), {
    transposeFirst: ["b"],
    program: -1,
  });
  assert.deepEqual(planMatMul({ ...s, k: 200, transposeA: true, transposeB: false }), {
    transposeFirst: [],
    program: MATMUL_PROGRAM.smallOutput,
  });
  assert.deepEqual(planMatMul({ ...s, transposeA: true, transposeB: true }), {
    transposeFirst: ["a", "b"],
    program: -1,
  });
});

/** a [.., m|k, k|m] and b shapes for every transpose pair, batched and broadcast too. */
const CASES = [
  { a: [37, 19], b: [19, 23] },
  { a: [3, 37, 19], b: [3, 19, 23] },
  // TF.js's own fused matMul fails on every backend where a batch broadcasts
  // (its gradient, or the product itself): plain matMul only.
  { a: [3, 37, 19], b: [19, 23], plainOnly: true },
  { a: [2, 3, 37, 19], b: [1, 1, 19, 23], plainOnly: true },
  { a: [130, 70], b: [70, 66] },
  // Long K: Aᵀ·B split over K (4 and 7 slices, the last one shorter), edge tiles.
  { a: [37, 600], b: [600, 23] },
  { a: [130, 1000], b: [1000, 70] },
  { a: [1, 37, 600], b: [1, 600, 23] },
];

Deno.test({
  name:
    "matMul and fused matMul (bias, relu) on webgpu equal cpu for every transpose pair, values and gradients",
  ignore: !probe.ok || !!ciOnly,
  fn: async () => {
    const run = async () => {
      const out: number[][] = [];
      for (const [ci, c] of CASES.entries()) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const swap = (s: number[], t: boolean) =>
              t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s;
            const sa = swap(c.a, ta), sb = swap(c.b, tb);
            const a = tf.tensor(values(sa.reduce((x, y) => x * y, 1), ci), sa);
            const b = tf.tensor(values(sb.reduce((x, y) => x * y, 1), ci + 7), sb);
            const n = c.b[c.b.length - 1];
            const bias = tf.tensor(values(n, 3), [n]);
            const y = tf.matMul(a, b, ta, tb);
            out.push(Array.from(await y.data()));
            if (!("plainOnly" in c)) {
              const z = tf.fused.matMul({
                a,
                b,
                transposeA: ta,
                transposeB: tb,
                bias,
                activation: "relu",
              });
              const [ga, gb] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
                tf.fused.matMul({ a: x, b: w, transposeA: ta, transposeB: tb, bias }).square().sum()
              )([a, b]);
              for (const t of [z, ga, gb]) out.push(Array.from(await t.data()));
              tf.dispose([z, ga, gb]);
            }
            tf.dispose([a, b, bias, y]);
          }
        }
      }
      return out;
    };
    await selectBackend("cpu");
    const want = await run();
    await selectBackend("webgpu");
    for (const plan of ["plan with split-K", "plan", "TF.js"]) {
      setMatMulPlan(plan !== "TF.js");
      setMatMulTN(plan === "plan with split-K");
      try {
        const got = await run();
        assert.equal(got.length, want.length);
        got.forEach((g, i) => {
          assert.equal(g.length, want[i].length);
          // float32 sums in another order: within 2e-5 of the result's scale
          // (an element may be a small difference of large terms).
          const scale = want[i].reduce((m, w) => Math.max(m, Math.abs(w)), 0);
          g.forEach((v, j) =>
            assert.ok(
              Math.abs(v - want[i][j]) <= 1e-4 + 2e-5 * scale,
              `plan ${plan}, result ${i}, element ${j}: ${v} vs cpu ${want[i][j]}`,
            )
          );
        });
      } finally {
        setMatMulPlan(true);
        setMatMulTN(false);
      }
    }
  },
});

/** The webgpu programs `f` dispatches, by class name. */
function programsOf(f: () => tf.Tensor): string[] {
  // deno-lint-ignore no-explicit-any
  const backend = tf.backend() as any;
  const run = backend.runWebGPUProgram;
  const names: string[] = [];
  backend.runWebGPUProgram = function (p: { constructor: { name: string } }, ...rest: unknown[]) {
    names.push(p.constructor.name);
    return run.call(this, p, ...rest);
  };
  try {
    f().dispose();
  } finally {
    backend.runWebGPUProgram = run;
  }
  return names;
}

Deno.test({
  name:
    "the plan on webgpu: b transposed before a · bᵀ, aᵀ · b split over K (or by the small-output program), a set program type wins",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const a = tf.ones([512, 512]), b = tf.ones([512, 512]);
    const before = tf.env().get("WEBGPU_MATMUL_PROGRAM_TYPE");
    const nt = programsOf(() => tf.matMul(a, b, false, true));
    assert.deepEqual(nt.map((n) => n.startsWith("Transpose")), [true, false], nt.join());
    assert.deepEqual(programsOf(() => tf.matMul(a, b, true, false)), [
      "MatMulSmallOutputSizeProgram",
    ]);
    setMatMulTN(true);
    try {
      const raw0 = dispatchCounters().rawDispatches;
      assert.deepEqual(programsOf(() => tf.matMul(a, b, true, false)), [], "no TF.js program");
      assert.equal(
        dispatchCounters().rawDispatches - raw0,
        2,
        "split over K, then the slices summed",
      );
    } finally {
      setMatMulTN(false);
    }
    assert.deepEqual(programsOf(() => tf.matMul(a, b)), ["MatMulPackedProgram"]);
    assert.equal(tf.env().get("WEBGPU_MATMUL_PROGRAM_TYPE"), before, "the flag is restored");
    setMatMulPlan(false);
    try {
      assert.deepEqual(programsOf(() => tf.matMul(a, b, false, true)), ["MatMulPackedProgram"]);
    } finally {
      setMatMulPlan(true);
    }
    tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", MATMUL_PROGRAM.packed);
    try {
      assert.deepEqual(programsOf(() => tf.matMul(a, b, true, false)), ["MatMulPackedProgram"]);
    } finally {
      tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", before);
    }
    tf.dispose([a, b]);
  },
});

Deno.test({
  name: "Aᵀ·B split over K gives the same bits every time (the slices are summed in one order)",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const a = tf.tensor(values(1500 * 70, 1), [1500, 70]);
    const b = tf.tensor(values(1500 * 90, 2), [1500, 90]);
    const runs: Float32Array[] = [];
    setMatMulTN(true);
    try {
      for (let i = 0; i < 3; i++) {
        const c = tf.matMul(a, b, true, false);
        runs.push(await c.data() as Float32Array);
        c.dispose();
      }
    } finally {
      setMatMulTN(false);
    }
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
    tf.dispose([a, b]);
  },
});
