import assert from "node:assert/strict";
import { fuselabSettings } from "./env.ts";
import { setMatMulTN } from "../engine/webgpu/matmul.ts";

Deno.test("fuselabSettings: FUSELAB_* variables (not the code version) and switches off their defaults, sorted", () => {
  Deno.env.set("FUSELAB_TEST_SETTING", "7");
  Deno.env.set("FUSELAB_CODE_VERSION", "abc123");
  setMatMulTN(true);
  try {
    const s = fuselabSettings();
    assert.equal(s.FUSELAB_TEST_SETTING, "7");
    assert.equal(s.FUSELAB_WEBGPU_MATMUL_TN, "1", "a switch turned on in code");
    assert.ok(!("FUSELAB_CODE_VERSION" in s));
    const keys = Object.keys(s);
    assert.deepEqual(keys, [...keys].sort());
  } finally {
    setMatMulTN(false);
    Deno.env.delete("FUSELAB_TEST_SETTING");
    Deno.env.delete("FUSELAB_CODE_VERSION");
  }
  assert.ok(!("FUSELAB_WEBGPU_MATMUL_TN" in fuselabSettings()), "back at its default: not listed");
});
