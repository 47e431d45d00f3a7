/**
 * The runner on the webgpu backend, where the training loop reads its losses
 * only when it logs and clips gradients on the device: the same metrics lines
 * as on cpu.
 */
import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import { probeWebGPU } from "../engine/webgpu/backend.ts";
import { quietly, runDirs, runMetrics, writeDummyExperiment } from "./experiment_test_support.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP runner-on-webgpu test: ${probe.why}`);

Deno.test({
  name: "runner on webgpu: losses read when logging, clipping on the device, same lines as cpu",
  ignore: !probe.ok,
  fn: async () => {
    const { dir, file, results } = await writeDummyExperiment(
      `  name: "webgpu_run",
  task: { name: "dummy_linear" },
  train: { epochs: 3, lr: { schedule: "constant", value: 0.05 }, logEvery: 3, gradClip: 1 },
  axes: { backend: ["webgpu", "cpu"] },`,
      "fuselab-webgpu-run-",
    );
    const code = await quietly(() => main([file, "--results", results, "--plain", "--no-report"]));
    assert.equal(code, 0);
    const { dirs } = await runDirs(file, results);
    type Line = Record<string, number | string>;
    const [gpu, cpu] = (await Promise.all(dirs.map(runMetrics))) as Line[][];
    assert.equal(gpu.length, cpu.length);
    assert.ok(gpu.some((l) => l.split === "train"), "training lines were logged");
    gpu.forEach((l, i) => {
      for (const [k, v] of Object.entries(cpu[i])) {
        if (typeof v === "number") {
          assert.ok(
            Math.abs((l[k] as number) - v) <= 1e-4 * Math.max(1, Math.abs(v)),
            `line ${i} ${k}`,
          );
        } else assert.equal(l[k], v);
      }
    });
    await Deno.remove(dir, { recursive: true });
  },
});
