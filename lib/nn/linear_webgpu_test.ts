import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { dispatchCounters } from "../engine/webgpu/dispatch.ts";
import { setMatMulPlan } from "../engine/webgpu/matmul.ts";
import { Rng } from "../util/rng.ts";
import { Linear } from "./linear.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu Linear test: ${probe.why}`);

/** y, ∂x, ∂W and ∂b of Σ y ⊙ w for a Linear(5 → 7) on x [3, 4, 5], and the dispatches of y. */
async function linearOn(backend: "cpu" | "webgpu") {
  await selectBackend(backend);
  const layer = new Linear(5, 7, new Rng(3));
  const x = tf.tensor3d(Array.from({ length: 60 }, (_, i) => Math.sin(i)), [3, 4, 5]);
  const w = tf.tensor3d(Array.from({ length: 84 }, (_, i) => Math.cos(i)), [3, 4, 7]);
  const d0 = dispatchCounters().arenaDispatches;
  const y = layer.apply(x);
  const dispatches = dispatchCounters().arenaDispatches - d0;
  const f = (xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi), w));
  const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, [layer.weight, layer.bias!]);
  const dx = tf.grad(f)(x);
  const out = await Promise.all(
    [y, dx, grads[layer.weight.name], grads[layer.bias!.name]].map(async (t) =>
      Array.from(await t.data())
    ),
  );
  tf.dispose([x, w, y, dx, ...Object.values(grads)]);
  layer.dispose();
  return { out, dispatches };
}

Deno.test({
  name:
    "Linear on webgpu: the bias inside the product (W transposed first, then one product), same y and gradients as cpu",
  ignore: !probe.ok,
  fn: async () => {
    const want = await linearOn("cpu");
    const got = await linearOn("webgpu");
    assert.equal(got.dispatches, 2, "Wᵀ copied, then one dispatch for x Wᵀ + b");
    setMatMulPlan(false);
    try {
      assert.equal((await linearOn("webgpu")).dispatches, 1, "TF.js's own plan: one dispatch");
    } finally {
      setMatMulPlan(true);
    }
    ["y", "∂x", "∂W", "∂b"].forEach((name, t) =>
      got.out[t].forEach((v, i) =>
        assert.ok(
          Math.abs(v - want.out[t][i]) <= 1e-5 + 1e-5 * Math.abs(want.out[t][i]),
          `${name}[${i}]: webgpu ${v}, cpu ${want.out[t][i]}`,
        )
      )
    );
  },
});
