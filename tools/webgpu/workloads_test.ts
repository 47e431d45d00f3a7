import assert from "node:assert/strict";
import { selectBackend } from "../../lib/engine/backend.ts";
import { checkWebGPU, probeWebGPU, setShaderFixes } from "../../lib/engine/webgpu/backend.ts";
import { distinctCalls, type KernelCall, recordKernels, sweepKernels } from "./sweep.ts";
import { gmuSteps, sweepWorkloads, transformerSteps } from "./workloads.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
const noGpu = !probe.ok;
if (!probe.ok) {
  console.log(
    `SKIP webgpu tests (tools/webgpu/workloads_test.ts): ${probe.why}. ` +
      "Install mesa-vulkan-drivers for the software adapter.",
  );
}

/** Kernel calls of one Transformer step and one GMU step, recorded on cpu (once). */
let recorded: KernelCall[] | undefined;
async function modelCalls(): Promise<KernelCall[]> {
  if (!recorded) {
    await selectBackend("cpu");
    recorded = await recordKernels(sweepWorkloads);
  }
  return recorded;
}

Deno.test({
  name: "webgpu kernel sweep: every kernel of a Transformer and a GMU step matches cpu",
  ignore: noGpu,
  fn: async () => {
    const calls = await modelCalls();
    const kernels = new Set(calls.map((c) => c.kernel));
    for (const k of ["BatchMatMul", "Softmax", "Transpose", "UnsortedSegmentSum", "GatherV2"]) {
      assert.ok(kernels.has(k), `the workloads should use ${k}`);
    }
    await selectBackend("webgpu");
    const cases = await sweepKernels(distinctCalls(calls, 2));
    const bad = cases.filter((c) => c.status === "mismatch" || c.status === "error");
    assert.deepEqual(
      bad.map((c) => `${c.kernel} ${c.variant} ${c.signature}: ${c.detail}`),
      [],
    );
    const ok = cases.filter((c) => c.status === "ok");
    assert.ok(ok.length > 150, `only ${ok.length} cases compared`);
    for (const v of ["recorded", "cast", "int32", "bool"]) {
      assert.ok(ok.some((c) => c.variant === v), `no ${v} case compared`);
    }
    console.log(
      `sweep: ${kernels.size} kernels, ${ok.length} cases equal to cpu, ` +
        `${cases.length - ok.length} not applicable`,
    );
  },
});

Deno.test({
  name: "webgpu kernel sweep detects the stock shader bugs when the fixes are off",
  ignore: noGpu,
  fn: async () => {
    const calls = distinctCalls(await modelCalls(), 2).filter((c) =>
      c.kernel === "Transpose" || c.kernel === "UnsortedSegmentSum"
    );
    await selectBackend("webgpu");
    setShaderFixes(false);
    let cases;
    try {
      cases = await sweepKernels(calls, { variants: ["int32"] });
    } finally {
      setShaderFixes(true);
    }
    const failed = new Set(
      cases.filter((c) => c.status === "mismatch" || c.status === "error").map((c) => c.kernel),
    );
    assert.deepEqual([...failed].sort(), ["Transpose", "UnsortedSegmentSum"]);
  },
});

/** Losses of 12 steps on one batch each, without dropout: Transformer, then GMU. */
async function fixedBatchLosses(): Promise<[number[], number[]]> {
  return [
    await transformerSteps(12, 7, { fixedBatch: true, dropout: 0 }),
    await gmuSteps(12, 8, { fixedBatch: true }),
  ];
}

/** Asserts that training on one batch brought its loss down by a quarter at least. */
function assertFalls(losses: number[], what: string): void {
  const [first, last] = [losses[0], losses[losses.length - 1]];
  assert.ok(last < 0.75 * first, `${what}: loss ${first} → ${last} did not fall: ${losses}`);
}

Deno.test("workloads learn on cpu: Transformer and GMU losses on one batch fall", async () => {
  await selectBackend("cpu");
  const [t, g] = await fixedBatchLosses();
  assertFalls(t, "Transformer (cpu)");
  assertFalls(g, "GMU (cpu)");
});

Deno.test({
  name: "webgpu training matches cpu: Transformer and GMU losses over 4 steps",
  ignore: noGpu,
  fn: async () => {
    await selectBackend("cpu");
    const cpuT = await transformerSteps(4, 7);
    const cpuG = await gmuSteps(4, 8);
    await selectBackend("webgpu");
    const gpuT = await transformerSteps(4, 7);
    const gpuG = await gmuSteps(4, 8);
    await checkWebGPU();
    for (const [cpu, gpu] of [[cpuT, gpuT], [cpuG, gpuG]]) {
      assert.equal(gpu.length, 4);
      for (let i = 0; i < cpu.length; i++) {
        assert.ok(Number.isFinite(gpu[i]), `step ${i}: loss ${gpu[i]}`);
        assert.ok(
          Math.abs(gpu[i] - cpu[i]) <= 1e-4 * Math.max(1, Math.abs(cpu[i])),
          `step ${i}: webgpu ${gpu[i]} vs cpu ${cpu[i]}`,
        );
      }
    }
    // Training moved the loss: the comparison is not between constants.
    assert.notEqual(cpuT[0], cpuT[3]);
    // Adam's updates land on webgpu too (its in-place path): on one batch the loss falls.
    await selectBackend("webgpu");
    const [t, g] = await fixedBatchLosses();
    await checkWebGPU();
    assertFalls(t, "Transformer (webgpu)");
    assertFalls(g, "GMU (webgpu)");
  },
});
