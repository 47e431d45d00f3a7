/**
 * Slurm launcher logic without a cluster: option parsing, the `--array` value,
 * Slurm output parsing, state merging, and `launch`/`slurmStatus` against a
 * scripted fake of sbatch/squeue/scontrol. The real-cluster tests are in
 * slurm_cluster_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Manifest } from "../contract/results.ts";
import { parseSlurmArgs } from "./slurm_args.ts";
import { arrayScript, arraySpec, parseJobId, reportScript } from "./sbatch.ts";
import {
  type CommandResult,
  expandTaskIds,
  parseScontrol,
  parseSqueue,
  queryArray,
} from "./slurm_query.ts";
import { mergeState } from "./slurm_status.ts";
import {
  collectSlurmStatus,
  isGpuRequest,
  launch,
  reportSbatchArgs,
  slurmStatus,
  statusCell,
} from "./slurm.ts";
import { readSlurmRecord } from "./slurm_record.ts";

Deno.test("parseSlurmArgs: every option, both spellings, and clear errors", () => {
  const o = parseSlurmArgs([
    "exp.yaml",
    "--launcher",
    "slurm",
    "--partition=gpu",
    "--time",
    "1-02:00",
    "--cpus-per-task",
    "4",
    "--mem=8G",
    "--gpus",
    "a100:1",
    "--max-parallel=3",
    "--sbatch-arg=--account=lab",
    "--sbatch-arg",
    "--qos=low",
  ], ["exp.yaml"]);
  assert.deepEqual(o, {
    partition: "gpu",
    time: "1-02:00",
    cpusPerTask: 4,
    mem: "8G",
    gpus: "a100:1",
    maxParallel: 3,
    sbatchArgs: ["--account=lab", "--qos=low"],
    dryRun: false,
    noReport: false,
  });
  assert.equal(parseSlurmArgs(["--no-report"]).noReport, true);
  assert.throws(() => parseSlurmArgs(["--no-report=1"]), /takes no value/);
  assert.throws(() => parseSlurmArgs(["--nodes=2"]), /unknown option "--nodes=2".*--partition/);
  assert.throws(() => parseSlurmArgs(["--time", "2 hours"]), /--time "2 hours" is not valid/);
  assert.throws(() => parseSlurmArgs(["--mem=lots"]), /--mem "lots" is not valid/);
  assert.throws(() => parseSlurmArgs(["--max-parallel=0"]), /at least 1/);
  assert.throws(() => parseSlurmArgs(["--cpus-per-task"]), /needs a value/);
  assert.throws(() => parseSlurmArgs(["--sbatch-arg=account=lab"]), /--sbatch-arg=--account=lab/);
});

Deno.test("arraySpec: ranges, throttle, and bad input", () => {
  assert.equal(arraySpec([5, 0, 1, 2, 8, 7], 2), "0-2,5,7-8%2");
  assert.equal(arraySpec([3]), "3");
  assert.equal(arraySpec([1, 1, 2]), "1-2");
  assert.throws(() => arraySpec([]), /no indices/);
  assert.throws(() => arraySpec([-1]), /bad array index/);
});

Deno.test("expandTaskIds and parseSqueue read Slurm's array notations", () => {
  assert.deepEqual(expandTaskIds("0-4%2"), [0, 1, 2, 3, 4]);
  assert.deepEqual(expandTaskIds("[1-7:3,9]"), [1, 4, 7, 9]);
  assert.deepEqual(expandTaskIds("3,5"), [3, 5]);
  const tasks = parseSqueue(
    "12|0|RUNNING|None\n12|[2-3%2]|PENDING|JobArrayTaskLimit\n13|N/A|x|y\n",
  );
  assert.deepEqual(tasks.map((t) => [t.jobId, t.state, t.reason]), [
    ["12_0", "RUNNING", "None"],
    ["12_2", "PENDING", "JobArrayTaskLimit"],
    ["12_3", "PENDING", "JobArrayTaskLimit"],
  ]);
});

Deno.test("parseScontrol keeps values with spaces and reads exit codes", () => {
  const [rec] = parseScontrol(
    "JobId=4 ArrayJobId=1 ArrayTaskId=3 JobState=FAILED Reason=NonZeroExitCode " +
      "Restarts=1 ExitCode=7:0 Command=/a b/c.sh WorkDir=/tmp Power=\n",
  );
  assert.equal(rec.JobState, "FAILED");
  assert.equal(rec.ExitCode, "7:0");
  assert.equal(rec.Command, "/a b/c.sh");
  assert.equal(rec.Power, "");
});

Deno.test("queryArray merges squeue states with scontrol exit codes; unknown job → null", async () => {
  const fake = (cmd: string, args: string[]): Promise<CommandResult> => {
    if (args.includes("99")) {
      return Promise.resolve({ code: 1, stdout: "", stderr: "Invalid job id specified" });
    }
    if (cmd === "squeue") {
      return Promise.resolve({
        code: 0,
        stdout: "7|1|FAILED|NonZeroExitCode\n7|0|COMPLETED|None\n7|2|PENDING|Resources\n",
        stderr: "",
      });
    }
    return Promise.resolve({
      code: 0,
      stdout: "JobId=8 ArrayJobId=7 ArrayTaskId=1 JobState=FAILED Restarts=2 ExitCode=3:0\n" +
        "JobId=7 ArrayJobId=7 ArrayTaskId=2 JobState=PENDING Restarts=0 ExitCode=0:0\n",
      stderr: "",
    });
  };
  const tasks = await queryArray("7", fake);
  assert.ok(tasks);
  assert.equal(tasks.get(1)?.exitCode, 3);
  assert.equal(tasks.get(1)?.restarts, 2);
  assert.equal(tasks.get(2)?.exitCode, undefined);
  assert.equal(tasks.get(0)?.state, "COMPLETED");
  assert.equal(await queryArray("99", fake), null);
});

Deno.test("mergeState: results folder and Slurm together", () => {
  const t = (state: string, extra = {}) => ({
    arrayJobId: "5",
    taskId: 0,
    jobId: "5_0",
    state,
    reason: "None",
    ...extra,
  });
  assert.equal(mergeState({ state: "done" }, t("FAILED")).state, "done");
  assert.equal(mergeState({ state: "running" }, t("RUNNING")).state, "running");
  assert.equal(mergeState(undefined, t("PENDING")).state, "pending");
  const f = mergeState({ state: "failed", error: "boom" }, t("FAILED", { exitCode: 1 }));
  assert.equal(f.state, "failed");
  assert.match(f.detail, /job 5_0 FAILED exit code 1; boom/);
  assert.equal(mergeState({ state: "running" }, t("CANCELLED")).state, "cancelled");
  assert.equal(mergeState(undefined, t("COMPLETED")).state, "failed");
  assert.equal(mergeState(undefined, null).state, "never ran");
  assert.equal(mergeState(undefined, undefined).state, "never ran");
  assert.equal(mergeState({ state: "running" }, undefined).state, "interrupted");
  assert.equal(mergeState({ state: "failed" }, undefined).state, "failed");
});

Deno.test("scripts: array task maps index → run, appends to the run's log, runs --run-id", () => {
  const p = {
    experiment: "tiny",
    project: "/proj",
    deno: "/opt/deno/bin/deno",
    file: "/proj/exp dir/tiny.yaml",
    resultsDir: "/proj/results/tiny",
    options: {
      partition: "cpu",
      mem: "1G",
      maxParallel: 2,
      sbatchArgs: [],
      dryRun: false,
      noReport: false,
    },
  };
  const s = arrayScript(p, [{ index: 3, id: "r3" }, { index: 0, id: "r0" }]);
  assert.match(s, /^#SBATCH --array=0,3%2$/m);
  assert.match(s, /^#SBATCH --open-mode=append$/m);
  assert.match(s, /^#SBATCH --requeue$/m);
  assert.match(s, /^#SBATCH --partition=cpu$/m);
  assert.match(s, /^#SBATCH --mem=1G$/m);
  assert.match(s, /^#SBATCH --output=\/proj\/results\/tiny\/slurm\/logs\/%A_%a.out$/m);
  assert.match(s, /^ {2}0\) run=r0 ;;\n {2}3\) run=r3 ;;$/m);
  assert.match(s, /exec >>"\$results\/runs\/\$run\/slurm.log" 2>&1/);
  assert.match(
    s,
    /exec \/opt\/deno\/bin\/deno task exp '\/proj\/exp dir\/tiny.yaml' --run-id "\$run" --results \/proj\/results$/m,
  );
  const r = reportScript(p);
  assert.match(
    r,
    /exec \/opt\/deno\/bin\/deno task report \/proj\/results\/tiny --results \/proj\/results$/m,
  );
  assert.doesNotMatch(r, /--mem/);
  assert.equal(parseJobId("42;cluster\n"), "42");
  assert.throws(() => parseJobId("error"), /no job id/);
});

/** A results folder with 4 planned runs: run 0 done, run 1 failed, runs 2-3 never started. */
async function fixture(): Promise<{ dir: string; file: string; manifest: Manifest }> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab_slurm_unit_" });
  const file = join(dir, "tiny.yaml");
  await Deno.writeTextFile(file, "name: tiny\n");
  const runs = [0, 1, 2, 3].map((i) => ({
    id: `run${i}`,
    index: i,
    variant: { "model.heads": i % 2 ? 2 : 1 },
    variantKey: `model.heads=${i % 2 ? 2 : 1}`,
    seed: i >> 1,
  }));
  const manifest: Manifest = {
    experiment: "tiny",
    file,
    axes: { "model.heads": [1, 2] },
    seeds: [0, 1],
    primary: { metric: "exact_match", higherIsBetter: true },
    compare: [],
    baseline: "model.heads=1",
    runs,
  };
  const results = join(dir, "results", "tiny");
  for (const [id, state] of [["run0", "done"], ["run1", "failed"]]) {
    await Deno.mkdir(join(results, "runs", id), { recursive: true });
    await Deno.writeTextFile(join(results, "runs", id, "status.json"), JSON.stringify({ state }));
  }
  return { dir, file, manifest };
}

Deno.test("launch submits only unfinished runs as one array, then a dependent report job", async () => {
  const { dir, file, manifest } = await fixture();
  const resultsDir = join(dir, "results", "tiny");
  const calls: string[][] = [];
  let next = 100;
  const fake = (cmd: string, args: string[]): Promise<CommandResult> => {
    calls.push([cmd, ...args]);
    if (cmd === "sbatch") return Promise.resolve({ code: 0, stdout: `${next++}\n`, stderr: "" });
    if (cmd === "squeue") {
      // After the first submission: task 2 still runs, task 3 was cancelled while pending.
      return Promise.resolve({
        code: 0,
        stdout: "100|2|RUNNING|None\n100|1|FAILED|x\n",
        stderr: "",
      });
    }
    return Promise.resolve({ code: 0, stdout: "", stderr: "" });
  };
  const out: string[] = [];
  const ctx = { file, manifest, resultsDir };
  const code = await launch(ctx, ["--max-parallel", "2", "--sbatch-arg=--qos=low"], {
    run: fake,
    print: (l) => out.push(l),
  });
  assert.equal(code, 0);
  assert.deepEqual(calls.map((c) => c[0]), ["sbatch", "sbatch"]);
  assert.deepEqual(calls[0].slice(1, 3), ["--parsable", "--qos=low"]);
  assert.deepEqual(calls[1].slice(1, 4), ["--parsable", "--dependency=afterany:100", "--qos=low"]);
  const script = await Deno.readTextFile(calls[0].at(-1)!);
  assert.match(script, /^#SBATCH --array=1-3%2$/m);
  const rec = await readSlurmRecord(resultsDir);
  assert.equal(rec?.submissions.length, 1);
  assert.equal(rec?.submissions[0].arrayJobId, "100");
  assert.equal(rec?.submissions[0].reportJobId, "101");
  assert.deepEqual(rec?.submissions[0].runs, { 1: "run1", 2: "run2", 3: "run3" });
  assert.ok(out.some((l) => l.includes("job array 100") && l.includes("1-3%2")));
  assert.ok(out.some((l) => l.includes("deno task exp status")));
  assert.ok(await Deno.stat(join(resultsDir, "manifest.json")));

  // Re-submission: run 2 is still running (skipped), runs 1 (failed) and 3 (no trace) go again.
  calls.length = 0;
  assert.equal(await launch(ctx, [], { run: fake, print: () => {} }), 0);
  const sb = calls.filter((c) => c[0] === "sbatch");
  assert.equal(sb.length, 2);
  assert.match(await Deno.readTextFile(sb[0].at(-1)!), /^#SBATCH --array=1,3$/m);
  assert.deepEqual((await readSlurmRecord(resultsDir))?.submissions[1].runs, {
    1: "run1",
    3: "run3",
  });

  // Status: run 1's log tail and exit code show; run 3 never ran (no trace in the 2nd array).
  await Deno.writeTextFile(
    join(resultsDir, "runs", "run1", "slurm.log"),
    "[fuselab] start\nError: out of cheese\n",
  );
  const status = (cmd: string, args: string[]): Promise<CommandResult> => {
    if (cmd === "squeue" && args.includes("102")) {
      return Promise.resolve({ code: 0, stdout: "102|1|FAILED|NonZeroExitCode\n", stderr: "" });
    }
    if (cmd === "scontrol" && args.includes("102")) {
      return Promise.resolve({
        code: 0,
        stdout: "JobId=104 ArrayJobId=102 ArrayTaskId=1 JobState=FAILED ExitCode=1:0\n",
        stderr: "",
      });
    }
    return fake(cmd, args);
  };
  const lines: string[] = [];
  const cells = await slurmStatus(ctx, { run: status, print: (l) => lines.push(l) });
  assert.deepEqual(cells, {
    run0: "done",
    run1: "failed 102_1 exit 1",
    run2: "running 100_2",
    run3: "never ran",
  });
  const text = lines.join("\n");
  assert.match(text, /array job 102 \(--array=1,3\), report job 103/);
  assert.match(text, /run1 .* failed +job 102_1 FAILED \(NonZeroExitCode\) exit code 1/);
  assert.match(text, /\| Error: out of cheese/);
  assert.match(text, /1 done, 1 running, 1 failed, 1 never ran \(4 runs\)/);
  assert.match(text, /2 run\(s\) to submit again/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launch: nothing to submit, bad options, and a refused sbatch", async () => {
  const { dir, file, manifest } = await fixture();
  const resultsDir = join(dir, "results", "tiny");
  const refuse = (cmd: string): Promise<CommandResult> =>
    Promise.resolve(
      cmd === "sbatch"
        ? {
          code: 1,
          stdout: "",
          stderr: "sbatch: error: Memory specification can not be satisfied",
        }
        : { code: 0, stdout: "", stderr: "" },
    );
  const ctx = { file, manifest, resultsDir };
  assert.equal(await launch(ctx, ["--mem=999T"], { run: refuse, print: () => {} }), 1);
  assert.equal(await readSlurmRecord(resultsDir), null);
  assert.equal(await launch(ctx, ["--bogus"], { run: refuse, print: () => {} }), 2);
  for (const id of ["run1", "run2", "run3"]) {
    await Deno.mkdir(join(resultsDir, "runs", id), { recursive: true });
    await Deno.writeTextFile(join(resultsDir, "runs", id, "status.json"), '{"state":"done"}');
  }
  const out: string[] = [];
  assert.equal(await launch(ctx, [], { run: refuse, print: (l) => out.push(l) }), 0);
  assert.match(out[0], /nothing to submit \(4 of 4 runs done/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launch: --no-report submits the array alone; --dry-run submits nothing", async () => {
  const { dir, file, manifest } = await fixture();
  const resultsDir = join(dir, "results", "tiny");
  const calls: string[][] = [];
  const fake = (cmd: string, args: string[]): Promise<CommandResult> => {
    calls.push([cmd, ...args]);
    return Promise.resolve({ code: 0, stdout: cmd === "sbatch" ? "7\n" : "", stderr: "" });
  };
  const ctx = { file, manifest, resultsDir, forwardArgs: ["--backend", "wasm"] };
  const out: string[] = [];
  assert.equal(await launch(ctx, ["--dry-run"], { run: fake, print: (l) => out.push(l) }), 0);
  assert.equal(calls.length, 0);
  assert.match(out.join("\n"), /would submit 3 of 4 runs \(--array=1-3\)/);
  const script = await Deno.readTextFile(join(resultsDir, "slurm", "array-1.sh"));
  assert.match(
    script,
    /--run-id "\$run" --retry-failed --backend wasm --results /,
  );
  assert.equal(await readSlurmRecord(resultsDir), null);

  assert.equal(await launch(ctx, ["--no-report"], { run: fake, print: () => {} }), 0);
  assert.deepEqual(calls.map((c) => c[0]), ["sbatch"]);
  const rec = await readSlurmRecord(resultsDir);
  assert.equal(rec?.submissions[0].arrayJobId, "7");
  assert.equal(rec?.submissions[0].reportJobId, undefined);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launch: GPU requests go to the training array only; webgpu without one is warned about", async () => {
  assert.ok(isGpuRequest("--gres=gpu:1") && isGpuRequest("--gpus=2") && isGpuRequest("-G"));
  assert.ok(!isGpuRequest("--gres=tmpfs:10G") && !isGpuRequest("--qos=low"));
  assert.deepEqual(
    reportSbatchArgs(["--qos=low", "--gres=gpu:a100:1", "--gres", "gpu:1", "--gpus-per-node=2"]),
    ["--qos=low"],
  );
  const { dir, file, manifest } = await fixture();
  const resultsDir = join(dir, "results", "tiny");
  const calls: string[][] = [];
  const fake = (cmd: string, args: string[]): Promise<CommandResult> => {
    calls.push([cmd, ...args]);
    return Promise.resolve({ code: 0, stdout: cmd === "sbatch" ? "9\n" : "", stderr: "" });
  };
  const out: string[] = [];
  const ctx = { file, manifest, resultsDir, forwardArgs: ["--backend", "webgpu"] };
  assert.equal(await launch(ctx, ["--gpus", "1"], { run: fake, print: (l) => out.push(l) }), 0);
  assert.ok(!out.some((l) => l.startsWith("warning")), out.join("\n"));
  const [array, report] = calls.filter((c) => c[0] === "sbatch");
  assert.match(await Deno.readTextFile(array.at(-1)!), /^#SBATCH --gpus=1$/m);
  assert.doesNotMatch(await Deno.readTextFile(report.at(-1)!), /gpu/i);
  assert.ok(!report.some(isGpuRequest));
  await Deno.remove(resultsDir, { recursive: true });
  const warned: string[] = [];
  assert.equal(await launch(ctx, ["--dry-run"], { run: fake, print: (l) => warned.push(l) }), 0);
  assert.match(warned[0], /^warning: --backend webgpu without a GPU request/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("status: tasks are matched to runs by id, whatever the plan's order is now", async () => {
  const { dir, file, manifest } = await fixture();
  const resultsDir = join(dir, "results", "tiny");
  const fake = (cmd: string): Promise<CommandResult> =>
    Promise.resolve(
      cmd === "sbatch"
        ? { code: 0, stdout: "50\n", stderr: "" }
        : cmd === "squeue"
        ? { code: 0, stdout: "50|1|RUNNING|None\n50|2|PENDING|BeginTime\n", stderr: "" }
        : cmd === "scontrol"
        ? {
          code: 0,
          stdout: "JobId=52 ArrayJobId=50 ArrayTaskId=2 JobState=PENDING Reason=BeginTime " +
            "Restarts=1 ExitCode=0:0\n",
          stderr: "",
        }
        : { code: 0, stdout: "", stderr: "" },
    );
  assert.equal(await launch({ file, manifest, resultsDir }, ["--no-report"], { run: fake }), 0);
  // The file is edited: the plan's order is reversed, so indices no longer match the array's.
  const reordered = manifest.runs.map((r, i) => ({ ...r, index: manifest.runs.length - 1 - i }));
  const { rows } = await collectSlurmStatus(
    { manifest: { ...manifest, runs: reordered }, resultsDir },
    fake,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));

  assert.equal(byId.get("run1")?.task?.taskId, 1);
  assert.equal(byId.get("run2")?.task?.taskId, 2);
  assert.equal(statusCell(byId.get("run2")!), "requeued 1×, pending 50_2 (BeginTime)");
  await Deno.remove(dir, { recursive: true });
});
