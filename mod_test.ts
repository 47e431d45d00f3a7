import assert from "node:assert/strict";
import * as fuselab from "./mod.ts";
import * as engine from "./lib/engine/mod.ts";
import * as launch from "./lib/launch/mod.ts";

Deno.test("mod.ts: the paper's concepts, training, the experiment API, backends and the report", () => {
  for (
    const name of [
      "EncoderDecoder",
      "MultiHeadedAttention",
      "GatedMultimodalUnit",
      "crossEntropy",
      "LabelSmoothing",
      "Adam",
      "valueAndGrads",
      "noamRate",
      "greedyDecode",
      "saveCheckpoint",
      "Rng",
      "copyTask",
      "defineExperiment",
      "loadExperiment",
      "runSweep",
      "RunConfig",
      "selectBackend",
      "BACKENDS",
      "buildReport",
    ]
  ) assert.ok(name in fuselab, `mod.ts exports ${name}`);
});

Deno.test("mod.ts: launcher and engine internals stay behind their own entry points", () => {
  const launcherOnly = Object.keys(launch).filter((n) => !(n in engine));
  assert.ok(launcherOnly.length > 10);
  assert.deepEqual(launcherOnly.filter((n) => n in fuselab), []);
  for (const name of ["installBlasKernels", "patchShader", "probeWebGPU", "envSwitch"]) {
    assert.ok(name in engine, `lib/engine/mod.ts exports ${name}`);
    assert.ok(!(name in fuselab), `mod.ts does not export ${name}`);
  }
});
