import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { webgpuAdamCounts } from "../engine/webgpu/adam.ts";
import { dispatchCounters, rawPipelineKeys } from "../engine/webgpu/dispatch.ts";
import { Adam } from "./adam.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) {
  console.log(`SKIP webgpu Adam tests (lib/train/adam_webgpu_test.ts): ${probe.why}`);
}

/** Deterministic values in [-1, 1) (no RNG state shared with other tests). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Five Adam steps of three parameters (sizes with and without a multiple of 4) on one backend. */
async function run(backend: "cpu" | "webgpu", weightDecay: number, fused: boolean) {
  await selectBackend(backend);
  const shapes = [[3, 5], [8, 4], [7]];
  const params = shapes.map((s, i) =>
    [
      `w${i}`,
      tf.tidy(() => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), 11 + i), s))),
    ] as [
      string,
      tf.Variable,
    ]
  );
  const adam = new Adam(params, { weightDecay, fused });
  for (let step = 0; step < 5; step++) {
    const grads: Record<string, tf.Tensor> = {};
    params.forEach(([n, p], i) => {
      grads[n] = tf.tensor(values(p.size, 100 * step + i), p.shape);
    });
    adam.apply(grads, 0.01 * (step + 1));
    tf.dispose(Object.values(grads));
  }
  const out: Float32Array[] = [];
  for (const [, p] of params) out.push(await p.data() as Float32Array);
  for (const t of Object.values(adam.state())) out.push(await t.data() as Float32Array);
  adam.dispose();
  tf.dispose(params.map(([, p]) => p));
  return out;
}

for (const weightDecay of [0, 0.1]) {
  Deno.test({
    name:
      `webgpu Adam in place (parameters grouped into dispatches) matches the tensor formula on cpu, λ=${weightDecay}`,
    ignore: !probe.ok,
    fn: async () => {
      const ref = await run("cpu", weightDecay, true);
      const before = webgpuAdamCounts();
      const d0 = dispatchCounters().rawDispatches;
      const got = await run("webgpu", weightDecay, true);
      const after = webgpuAdamCounts();
      // Sizes 15 and 7 (one float a thread) share a dispatch; 32 (four) has its own.
      assert.equal(dispatchCounters().rawDispatches - d0, 2 * 5, "two dispatches a step");
      assert.equal(after.inPlace - before.inPlace, 15, "every update ran in place");
      assert.equal(after.declined, before.declined);
      const formula = await run("webgpu", weightDecay, false);
      assert.equal(webgpuAdamCounts().inPlace, after.inPlace, "fused: false keeps the formula");
      assert.equal(got.length, 9);
      for (let t = 0; t < ref.length; t++) {
        for (let i = 0; i < ref[t].length; i++) {
          const tol = 1e-6 + 1e-5 * Math.abs(ref[t][i]);
          assert.ok(
            Math.abs(got[t][i] - ref[t][i]) <= tol,
            `tensor ${t}[${i}]: webgpu ${got[t][i]} vs cpu ${ref[t][i]}`,
          );
          assert.ok(Math.abs(formula[t][i] - ref[t][i]) <= tol);
        }
      }
    },
  });
}

Deno.test({
  name: "webgpu Adam declines to write in place when another tensor shares the parameter's data",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const init = tf.tensor([1, 2, 3, 4]);
    const p = tf.variable(init); // the variable shares init's data while init lives
    const adam = new Adam([["p", p]]);
    const before = webgpuAdamCounts();
    const g = tf.tensor([1, 1, 1, 1]);
    adam.apply({ p: g }, 0.1);
    assert.equal(webgpuAdamCounts().declined - before.declined, 1);
    assert.deepEqual(Array.from(await init.data()), [1, 2, 3, 4], "the shared tensor is untouched");
    const moved = await p.data();
    assert.ok(moved.every((x, i) => x < i + 1), "the parameter still moved");
    tf.dispose([init, p, g]);
    adam.dispose();
  },
});

Deno.test({
  name: "webgpu Adam compiles its shader once, records one dispatch for one parameter",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const p = tf.tidy(() => tf.variable(tf.ones([64])));
    const adam = new Adam([["p", p]]);
    const g = tf.ones([64]);
    // deno-lint-ignore no-explicit-any
    const device = (tf.backend() as any).device;
    adam.apply({ p: g }, 0.1);
    await p.data();
    const adamKeys = () => rawPipelineKeys(device).filter((k) => k.startsWith("fuselab_adam"));
    const compiled = adamKeys();
    assert.ok(compiled.includes("fuselab_adam_4_plain_16"), compiled.join(", "));
    const before = dispatchCounters().rawDispatches;
    for (let i = 0; i < 5; i++) adam.apply({ p: g }, 0.1);
    await p.data();
    assert.equal(dispatchCounters().rawDispatches - before, 5, "one dispatch per update");
    assert.deepEqual(adamKeys(), compiled, "no new pipelines after the first step");
    tf.dispose([p, g]);
    adam.dispose();
  },
});
