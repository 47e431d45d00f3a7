import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { applyTfjsFlags, selectBackend } from "./backend.ts";

Deno.test("FUSELAB_TFJS_FLAGS: values converted, other backends' flags wait, unknown flags and bad items named", async () => {
  await selectBackend("cpu");
  const before = tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS");
  try {
    const set = applyTfjsFlags(
      "CHECK_COMPUTATION_FOR_ERRORS=false, WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64",
    );
    assert.deepEqual(set, { CHECK_COMPUTATION_FOR_ERRORS: false });
    assert.equal(tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS"), false);
    assert.throws(
      () => applyTfjsFlags("CPU_NO_SUCH_FLAG=1"),
      /no flag "CPU_NO_SUCH_FLAG" on the cpu/,
    );
    assert.throws(() => applyTfjsFlags("DEBUG"), /"DEBUG" is not KEY=value/);
    assert.deepEqual(applyTfjsFlags(undefined), {});
  } finally {
    tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", before);
  }
});
