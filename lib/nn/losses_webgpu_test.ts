import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { dispatchCounters } from "../engine/webgpu/dispatch.ts";
import { setFusedXentWebGPU, softmaxCrossEntropyWebGPU } from "../engine/webgpu/softmax_xent.ts";
import { checkXent, close, xentData } from "../engine/blas/softmax_xent_test_support.ts";
import { crossEntropy } from "./losses.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu cross-entropy tests: ${probe.why}`);

const fused = (z: tf.Tensor, y: tf.Tensor, red: "mean" | "sum") => {
  const loss = softmaxCrossEntropyWebGPU(z as tf.Tensor2D, y as tf.Tensor1D, red);
  if (!loss) throw new Error("the fused path declined");
  return loss;
};

Deno.test({
  name:
    "webgpu cross-entropy (three dispatches) matches a float64 reference (odd shapes, ignored rows)",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const d0 = dispatchCounters().rawDispatches;
    await checkXent(1, 1, "mean", 0, fused);
    assert.equal(dispatchCounters().rawDispatches - d0, 3, "two dispatches forward, one backward");
    await checkXent(3, 7, "mean", 0, fused);
    await checkXent(13, 1001, "sum", 3, fused);
    await checkXent(37, 5, "mean", 2, fused);
    await checkXent(300, 64, "mean", 7, fused); // more rows than the total's workgroup
    await checkXent(2, 70_000, "sum", 0, fused); // rows wider than a grid row of threads
  },
});

Deno.test({
  name: "crossEntropy on webgpu takes the fused path and agrees with the tensor formula",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const n = 24, c = 101;
    const { z, y } = xentData(n, c, 9, 4);
    const zt = tf.tensor3d(z, [2, 12, c]);
    const yt = tf.tensor2d(y, [2, 12], "int32");
    const run = async (red: "mean" | "sum") => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, yt, red))([zt]);
      const out = { loss: (await value.data())[0], grad: Array.from(await grads[0].data()) };
      tf.dispose([value, ...grads]);
      return out;
    };
    for (const red of ["mean", "sum"] as const) {
      const d0 = dispatchCounters().rawDispatches;
      const got = await run(red);
      assert.equal(dispatchCounters().rawDispatches - d0, 3, `fused path taken (${red})`);
      setFusedXentWebGPU(false);
      try {
        const want = await run(red);
        assert.equal(dispatchCounters().rawDispatches - d0, 3, "the switch turns it off");
        close([got.loss], [want.loss], `loss ${red}`);
        close(got.grad, want.grad, `grad ${red}`);
      } finally {
        setFusedXentWebGPU(true);
      }
    }
    tf.dispose([zt, yt]);
  },
});
