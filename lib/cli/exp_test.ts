import assert from "node:assert/strict";
import { splitLauncherArgs } from "./exp.ts";

Deno.test("exp: with --launcher, unknown options and their values go to the launcher", () => {
  const r = splitLauncherArgs([
    "e.yaml",
    "--launcher",
    "slurm",
    "--partition",
    "gpu",
    "--time=0:30:00",
    "--jobs",
    "2",
    "--max-parallel",
    "4",
    "--",
    "--sbatch-arg",
    "--qos=low",
  ]);
  assert.deepEqual(r.ownArgs, ["e.yaml", "--launcher", "slurm", "--jobs", "2"]);
  assert.deepEqual(r.launcherArgs, [
    "--partition",
    "gpu",
    "--time=0:30:00",
    "--max-parallel",
    "4",
    "--sbatch-arg",
    "--qos=low",
  ]);
});

Deno.test("exp: without --launcher, nothing is forwarded and unknown options stay (to be rejected)", () => {
  const r = splitLauncherArgs(["e.yaml", "--partition", "gpu"]);
  assert.deepEqual(r.ownArgs, ["e.yaml", "--partition", "gpu"]);
  assert.deepEqual(r.launcherArgs, []);
});
