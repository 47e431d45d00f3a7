import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { probeWebGPU, setQueueUploads } from "./backend.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu upload tests: ${probe.why}`);

/** Uploads `count` distinct scalars through an op; returns the buffers created and the sum. */
async function scalarUploads(count: number): Promise<{ created: number; sum: number }> {
  // deno-lint-ignore no-explicit-any
  const device = (tf.backend() as any).device;
  const create = device.createBuffer;
  let created = 0;
  device.createBuffer = (d: unknown) => {
    created++;
    return create.call(device, d);
  };
  try {
    // Larger than WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD (1000), so that the adds run
    // on the GPU instead of being forwarded to the CPU backend.
    let acc = tf.zeros([4096]);
    for (let i = 0; i < count; i++) {
      const s = tf.scalar(i + 0.5); // made on the CPU, uploaded by the add
      const next = tf.add(acc, s);
      tf.dispose([acc, s]);
      acc = next;
    }
    const sum = (await acc.data())[0];
    acc.dispose();
    return { created, sum };
  } finally {
    device.createBuffer = create;
  }
}

Deno.test({
  name:
    "webgpu uploads CPU tensors with queue.writeBuffer: right values, no staging buffer per upload",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const n = 60;
    const expected = n * n / 2; // Σ (i + 0.5) for i < n
    await scalarUploads(n); // fills the pools
    const queued = await scalarUploads(n);
    assert.equal(queued.sum, expected);
    assert.ok(queued.created <= 2, `${queued.created} buffers created for ${n} uploads`);
    setQueueUploads(false);
    try {
      const staged = await scalarUploads(n);
      assert.equal(staged.sum, expected);
      assert.ok(
        staged.created >= n,
        `TF.js's own path: ${staged.created} buffers for ${n} uploads`,
      );
    } finally {
      setQueueUploads(true);
    }
    // Every dtype and an odd size arrive intact (uploaded, then read back from the GPU).
    // deno-lint-ignore no-explicit-any
    const backend = tf.backend() as any;
    const f = tf.tensor([1.5, -2.25, 3e-8, 7], [4]);
    const i = tf.tensor([1, -2, 2147483647, 0, 5], [5], "int32");
    const b = tf.tensor([true, false, true], [3], "bool");
    for (const t of [f, i, b]) {
      backend.uploadToGPU(t.dataId);
      assert.equal(backend.tensorMap.get(t.dataId).values, null, "the data now lives on the GPU");
    }
    assert.deepEqual(Array.from(await f.data()), [1.5, -2.25, 3e-8, 7].map(Math.fround));
    assert.deepEqual(Array.from(await i.data()), [1, -2, 2147483647, 0, 5]);
    assert.deepEqual(Array.from(await b.data()), [1, 0, 1]);
    tf.dispose([f, i, b]);
  },
});
