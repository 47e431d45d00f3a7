import assert from "node:assert/strict";
import { fuselabSettings, slurmJob } from "./env.ts";
import { defaultThreads } from "../engine/blas/mod.ts";
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

Deno.test("slurmJob: the job, array task, node and CPUs of a Slurm task; nothing outside Slurm", () => {
  const vars = {
    SLURM_JOB_ID: "42",
    SLURM_ARRAY_JOB_ID: "40",
    SLURM_ARRAY_TASK_ID: "2",
    SLURMD_NODENAME: "node7",
    SLURM_CPUS_PER_TASK: "2",
    SLURM_RESTART_COUNT: "1",
  };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const k of Object.keys(vars)) Deno.env.delete(k);
  try {
    assert.equal(slurmJob(), undefined);
    for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
    assert.deepEqual(slurmJob(), {
      jobId: "42",
      arrayJobId: "40",
      arrayTaskId: "2",
      node: "node7",
      cpusPerTask: "2",
      restartCount: "1",
    });
    Deno.env.delete("FUSELAB_BLAS_THREADS");
    assert.equal(defaultThreads(), 2, "OpenBLAS threads from the allocation, not the node");
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});
