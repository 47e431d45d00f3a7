/**
 * Prints the WebGPU adapter Deno finds. Exit 0: a hardware adapter; 3: a
 * software one (llvmpipe, lavapipe, SwiftShader); 2: none. Used by setup.sh.
 *
 * @module
 */
import { probeWebGPU } from "../../lib/engine/webgpu/backend.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) {
  console.log(`probe: no adapter (${probe.why})`);
  Deno.exit(2);
}
const limit = probe.adapter.limits?.maxStorageBufferBindingSize;
console.log(
  `probe: ${probe.name} (${probe.software ? "software" : "hardware"}), ` +
    `maxStorageBufferBindingSize ${limit}`,
);
Deno.exit(probe.software ? 3 : 0);
