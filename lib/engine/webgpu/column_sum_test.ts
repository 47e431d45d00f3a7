import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { probeWebGPU } from "./backend.ts";
import { dispatchCounters } from "./dispatch.ts";
import { leadingAxes, setColumnSum } from "./column_sum.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu column sum tests: ${probe.why}`);

/** Sums, with the dispatches of fuselab's module each takes (0: TF.js's kernel). */
const CASES: { shape: number[]; axis: number | number[]; keepDims: boolean; ours: number }[] = [
  { shape: [5, 7], axis: 0, keepDims: false, ours: 1 },
  { shape: [3, 4, 9], axis: [0, 1], keepDims: false, ours: 1 },
  { shape: [3, 4, 9], axis: [-2, -3], keepDims: true, ours: 1 },
  { shape: [2048, 256], axis: [0], keepDims: false, ours: 1 },
  { shape: [9000, 5], axis: 0, keepDims: false, ours: 2 }, // three chunks, then their sums
  { shape: [5, 7], axis: 1, keepDims: false, ours: 0 }, // the last axis: TF.js
  { shape: [3, 4, 9], axis: [0], keepDims: false, ours: 0 }, // not all leading axes: TF.js
];

/** Deterministic values in [−1, 1). */
function values(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) % 1);
}

Deno.test("leadingAxes: exactly the axes 0 … rank−2, negative axes allowed", () => {
  assert.ok(leadingAxes(0, 2) && leadingAxes([1, 0], 3) && leadingAxes([-3, -2], 3));
  assert.ok(!leadingAxes(1, 2) && !leadingAxes([0], 3) && !leadingAxes(0, 1));
  assert.ok(!leadingAxes([0, 1, 2], 3));
});

Deno.test({
  name: "Sum over the leading axes on webgpu in one dispatch, equal to cpu; other sums unchanged",
  ignore: !probe.ok,
  fn: async () => {
    const run = async (c: (typeof CASES)[number]) => {
      const x = tf.tensor(values(c.shape.reduce((a, b) => a * b, 1)), c.shape);
      const d0 = dispatchCounters().rawDispatches;
      const y = tf.sum(x, c.axis, c.keepDims);
      const ours = dispatchCounters().rawDispatches - d0;
      const out = { shape: y.shape, data: Array.from(await y.data()), ours };
      tf.dispose([x, y]);
      return out;
    };
    await selectBackend("cpu");
    const want: Awaited<ReturnType<typeof run>>[] = [];
    for (const c of CASES) want.push(await run(c));
    await selectBackend("webgpu");
    for (const [i, c] of CASES.entries()) {
      const got = await run(c);
      const what = `sum of [${c.shape}] over ${c.axis}${c.keepDims ? " (keepDims)" : ""}`;
      assert.deepEqual(got.shape, want[i].shape, what);
      assert.equal(got.ours, c.ours, `${what}: fuselab's dispatches`);
      got.data.forEach((v, j) =>
        assert.ok(Math.abs(v - want[i].data[j]) <= 1e-4 + 1e-5 * Math.abs(want[i].data[j]), what)
      );
    }
    setColumnSum(false);
    try {
      const d0 = dispatchCounters().rawDispatches;
      const x = tf.ones([6, 3]);
      const y = tf.sum(x, 0);
      assert.deepEqual(Array.from(await y.data()), [6, 6, 6]);
      assert.equal(dispatchCounters().rawDispatches, d0, "switched off: TF.js's kernel");
      tf.dispose([x, y]);
    } finally {
      setColumnSum(true);
    }
  },
});
