import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import {
  checkWebGPU,
  patchShader,
  probeWebGPU,
  setShaderFixes,
  WebGPUKernelError,
  webgpuStats,
} from "./backend.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
const noGpu = !probe.ok;
if (!probe.ok) {
  console.log(
    `SKIP webgpu tests (lib/engine/webgpu/backend_test.ts): ${probe.why}. ` +
      "Install mesa-vulkan-drivers for the software adapter.",
  );
}

Deno.test("patchShader reads transpose input as f32 and converts int32 atomic adds", () => {
  const transpose = `fn main(index : i32) {
            setOutputAtIndex(flatIndex, A[getIndexFromCoords3D(
              vec3<i32>(coords.y,coords.z,coords.x), uniforms.aShape)]);
      }`;
  const t = patchShader("TransposeProgram", transpose);
  assert.deepEqual(t.applied, ["transpose-f32-read"]);
  assert.match(t.code, /setOutputAtIndex\(flatIndex, f32\(A\[getIndexFromCoords3D\(/);
  assert.match(t.code, /uniforms\.aShape\)\]\)\);/);
  // Another program with the same text is left alone.
  assert.deepEqual(patchShader("SliceProgram", transpose).applied, []);

  const seg = "let value = getX(b, inCol);\n atomicAdd(&result[flatIndex], bitcast<i32>(value));";
  const u = patchShader("UnsortedSegmentSumProgram", seg);
  assert.deepEqual(u.applied, ["atomic-add-i32-convert"]);
  assert.match(u.code, /atomicAdd\(&result\[flatIndex\], i32\(value\)\);/);
  // The float path (compare-exchange loop) has no atomicAdd and is untouched.
  const f = "let res = atomicCompareExchangeWeak(&result[i], oldValue, newValue);";
  assert.equal(patchShader("UnsortedSegmentSumProgram", f).code, f);
});

Deno.test({
  name: "webgpu guard: a rejected shader throws naming the kernel; the fix makes it right",
  ignore: noGpu,
  fn: async () => {
    await selectBackend("webgpu");
    tf.env().set("WEBGPU_CPU_FORWARD", false);
    try {
      setShaderFixes(false);
      const x = tf.range(0, 60, 1, "int32").reshape([3, 4, 5]);
      const y = tf.transpose(x, [2, 0, 1]);
      await assert.rejects(() => y.data(), (e: unknown) => {
        assert.ok(e instanceof WebGPUKernelError);
        assert.match(e.message, /kernel "Transpose"/);
        assert.match(e.message, /TransposeProgram/);
        return true;
      });
      tf.dispose([x, y]);
      setShaderFixes(true);
      const before = webgpuStats().shaderFixes["transpose-f32-read"] ?? 0;
      const a = tf.range(0, 60, 1, "int32").reshape([3, 4, 5]);
      const b = tf.transpose(a, [2, 0, 1]);
      const got = await b.data();
      // b[k][i][j] = a[i][j][k] = 20 i + 5 j + k
      const want: number[] = [];
      for (let k = 0; k < 5; k++) {
        for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) want.push(20 * i + 5 * j + k);
      }
      assert.deepEqual(Array.from(got), want);
      assert.ok((webgpuStats().shaderFixes["transpose-f32-read"] ?? 0) > before);
      tf.dispose([a, b]);
      await checkWebGPU();
    } finally {
      setShaderFixes(true);
      tf.env().set("WEBGPU_CPU_FORWARD", true);
    }
  },
});

Deno.test({
  name: "webgpu: synchronous reads fail with a fix instead of garbage",
  ignore: noGpu,
  fn: async () => {
    await selectBackend("webgpu");
    tf.env().set("WEBGPU_CPU_FORWARD", false);
    try {
      const y = tf.add(tf.ones([3]), 1);
      assert.throws(() => y.dataSync(), /await tensor\.data\(\)/);
      assert.deepEqual(Array.from(await y.data()), [2, 2, 2]);
      y.dispose();
    } finally {
      tf.env().set("WEBGPU_CPU_FORWARD", true);
    }
  },
});

Deno.test({
  name: "auto passes over a software adapter without initialising webgpu",
  ignore: noGpu || (probe.ok && !probe.software),
  fn: async () => {
    const script = `
      import * as tf from "@tensorflow/tfjs";
      import { selectBackend } from "${new URL("../backend.ts", import.meta.url).href}";
      const info = await selectBackend("auto");
      const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
      console.log(JSON.stringify({ name: info.name, reason: info.reason, gpu: "webgpu" in registry }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../../deno.json", import.meta.url).pathname, script],
      env: { FUSELAB_AUTO_WEBGPU: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(text.trim().split("\n").pop()!);
    assert.notEqual(r.name, "webgpu");
    assert.equal(r.gpu, false, "the webgpu backend was initialised");
    assert.match(r.reason, /webgpu \(WebGPU adapter .*software adapter/);
  },
});
