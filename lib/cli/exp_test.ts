import assert from "node:assert/strict";
import { environmentFault, splitLauncherArgs } from "./exp.ts";

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

Deno.test("exp: faults of the machine are one line with what to do; bugs are not hidden", () => {
  const full = Object.assign(new Error("No space left on device (os error 28): write 'x'"), {
    code: "ENOSPC",
  });
  assert.match(environmentFault(full)!, /^error: No space left on device .*; free some space/);
  const ro = Object.assign(new Error("Read-only file system (os error 30)"), { code: "EROFS" });
  assert.match(environmentFault(ro)!, /^error: Read-only file system .*; check that the results/);
  const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13)");
  assert.match(environmentFault(denied)!, /^error: Permission denied/);
  assert.equal(environmentFault(new TypeError("x is undefined")), undefined);
});
