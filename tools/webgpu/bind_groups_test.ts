import assert from "node:assert/strict";
import { selectBackend } from "../../lib/engine/backend.ts";
import { probeWebGPU } from "../../lib/engine/webgpu/backend.ts";
import { bindGroupStats, setBindGroupCache } from "../../lib/engine/webgpu/bind_groups.ts";
import { BENCH_DEFAULTS, BenchModel } from "./workloads.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu bind group cache test: ${probe.why}`);

const SMALL = { ...BENCH_DEFAULTS, vocab: 50, dModel: 32, h: 4, dFF: 64, seq: 8, batch: 3 };

/** Losses of 6 training steps of a small bench model, and the cache's hits and misses in the last 3. */
async function train() {
  const model = new BenchModel(SMALL, 11);
  const losses: number[] = [];
  let before = bindGroupStats();
  for (let i = 0; i < 6; i++) {
    if (i === 3) before = bindGroupStats();
    losses.push(await model.step());
  }
  const after = bindGroupStats();
  model.dispose();
  return { losses, hits: after.hits - before.hits, misses: after.misses - before.misses };
}

Deno.test({
  name: "bind group cache: a repeated training step reuses its bind groups; losses as without it",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const cached = await train();
    setBindGroupCache(false);
    let plain;
    try {
      plain = await train();
    } finally {
      setBindGroupCache(true);
    }
    assert.deepEqual(cached.losses, plain.losses, "the same losses, bit for bit");
    assert.equal(plain.hits + plain.misses, 0, "switched off: not consulted");
    const rate = cached.hits / (cached.hits + cached.misses);
    assert.ok(
      rate > 0.9,
      `steps 4–6 reuse their bind groups: ${cached.hits} hits, ${cached.misses} misses`,
    );
  },
});
