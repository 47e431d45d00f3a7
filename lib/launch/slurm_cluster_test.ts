/**
 * `--launcher slurm` against a real single-node Slurm cluster (tools/slurm/):
 * a sweep is submitted and the command returns before the runs finish; every
 * run ends done and the dependent job builds the report; a failing run shows
 * its exit code and log tail and re-submission runs only it; a running task
 * cancelled and requeued resumes from its checkpoint without duplicated
 * metric lines. Skipped, saying why, when the Slurm packages are missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { slurmMissing, startCluster, type TestCluster } from "../../tools/slurm/cluster.ts";
import type { Manifest, MetricsLine, StatusRecord } from "../contract/results.ts";
import { loadExperiment } from "../experiment/loader.ts";
import { collectSlurmStatus, PROJECT_ROOT } from "./slurm.ts";
import { LIVE_STATES, queryArray, queryJob } from "./slurm_query.ts";
import { readSlurmRecord } from "./slurm_record.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";

const missing = await slurmMissing() ?? ciOnly;
if (missing) console.log(`lib/launch/slurm_cluster_test.ts skipped: ${missing}`);

/** The tiniest copy-task sweep: `runs` variants × 1 seed, on the cpu backend. */
function experimentYaml(name: string, heads: number[], train: string): string {
  return [
    `name: ${name}`,
    "task: { name: copy, vocab: 5, length: 4, batchesPerEpoch: 2, valSize: 4, testSize: 4 }",
    "model: { layers: 1, dModel: 8, dFF: 8, heads: 1, dropout: 0 }",
    `train: ${train}`,
    `axes: { "model.heads": [${heads.join(", ")}] }`,
    "seeds: 1",
    "backend: cpu",
    "",
  ].join("\n");
}

interface Sweep {
  cluster: TestCluster;
  dir: string;
  file: string;
  root: string;
  resultsDir: string;
}

async function newSweep(cluster: TestCluster, name: string, yaml: string): Promise<Sweep> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab_slurm_sweep_" });
  const file = join(dir, `${name}.yaml`);
  await Deno.writeTextFile(file, yaml);
  const root = join(dir, "results");
  return { cluster, dir, file, root, resultsDir: join(root, name) };
}

/** Runs `deno task exp ...args` from the project root with the cluster's environment. */
async function exp(s: Sweep, args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "exp", ...args],
    cwd: PROJECT_ROOT,
    env: s.cluster.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

function submit(s: Sweep, extra: string[] = []) {
  return exp(s, [s.file, "--results", s.root, "--launcher", "slurm", "--", ...extra]);
}

async function manifestOf(s: Sweep): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(join(s.resultsDir, "manifest.json")));
}

async function statusOf(s: Sweep, id: string): Promise<StatusRecord | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(s.resultsDir, "runs", id, "status.json")));
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, cond: () => Promise<boolean>, seconds = 180): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** Waits until the latest submission's report job has ended (so has its array). */
async function waitForReportJob(s: Sweep): Promise<void> {
  const rec = await readSlurmRecord(s.resultsDir);
  const id = rec?.submissions.at(-1)?.reportJobId;
  assert.ok(id, "slurm.json names no report job");
  await waitFor(`report job ${id} to end`, async () => {
    const j = await queryJob(id, s.cluster.run);
    return j !== null && ["COMPLETED", "FAILED", "CANCELLED"].includes(j.state);
  });
  const j = await queryJob(id, s.cluster.run);
  assert.equal(j?.state, "COMPLETED", `report job ${id} ended ${j?.state}`);
}

/** Waits until every task of the latest submission's array has ended. */
async function waitForArray(s: Sweep): Promise<void> {
  const id = (await readSlurmRecord(s.resultsDir))?.submissions.at(-1)?.arrayJobId;
  assert.ok(id, "slurm.json names no array job");
  await waitFor(`array job ${id} to end`, async () => {
    const tasks = await queryArray(id, s.cluster.run);
    return tasks !== null && [...tasks.values()].every((t) => !LIVE_STATES.has(t.state));
  });
}

/** What Slurm and the logs say, for assertion messages. */
async function diagnose(s: Sweep): Promise<string> {
  const out: string[] = [];
  const sq = await s.cluster.run("squeue", ["-r", "-t", "all", "-o", "%i %T %r %S %e"]);
  out.push(sq.stdout, sq.stderr);
  const sc = await s.cluster.run("scontrol", ["show", "job", "-o"]);
  out.push(sc.stdout);
  for (const dir of [join(s.resultsDir, "slurm", "logs"), join(s.resultsDir, "runs")]) {
    try {
      for await (const e of Deno.readDir(dir)) {
        const f = e.isFile ? join(dir, e.name) : join(dir, e.name, "slurm.log");
        out.push(`== ${f}`, await Deno.readTextFile(f).catch(() => "(none)"));
      }
    } catch {
      out.push(`(no ${dir})`);
    }
  }
  out.push(
    await Deno.readTextFile(join(s.cluster.dir, "log", "slurmctld.log")).then(
      (t) => t.split("\n").slice(-30).join("\n"),
      () => "",
    ),
  );
  return out.join("\n");
}

function headers(log: string): string[] {
  return log.split("\n").filter((l) => l.startsWith("[fuselab]") && l.includes(" restart "));
}

function withCluster(name: string, fn: (c: TestCluster) => Promise<void>) {
  Deno.test({
    name,
    ignore: missing !== undefined,
    sanitizeResources: false,
    async fn() {
      const cluster = await startCluster();
      try {
        await fn(cluster);
      } finally {
        await cluster.stop();
      }
    },
  });
}

withCluster(
  "slurm: a sweep is submitted, returns at once, ends done with its report",
  async (c) => {
    const s = await newSweep(
      c,
      "slurm-sweep",
      experimentYaml("slurm-sweep", [1, 2], "{ epochs: 1, batchSize: 4 }"),
    );
    const sub = await submit(s, ["--max-parallel", "2"]);
    assert.equal(sub.code, 0, sub.out);
    // It returned before the runs finished: the report job still waits on the array.
    const rec = await readSlurmRecord(s.resultsDir);
    const first = rec?.submissions[0];
    assert.ok(first?.reportJobId, sub.out);
    const rep = await queryJob(first.reportJobId, c.run);
    assert.equal(rep?.state, "PENDING");
    assert.equal(rep?.reason, "Dependency");
    assert.match(sub.out, new RegExp(`job array ${first.arrayJobId} \\(--array=0-1%2\\)`));
    assert.match(sub.out, /deno task exp status/);
    const manifest = await manifestOf(s);
    assert.deepEqual(first.runs, { 0: manifest.runs[0].id, 1: manifest.runs[1].id });
    const manifestText = await Deno.readTextFile(join(s.resultsDir, "manifest.json"));

    await waitForReportJob(s);
    for (const r of manifest.runs) {
      assert.equal((await statusOf(s, r.id))?.state, "done", `run ${r.id}`);
      const log = await Deno.readTextFile(join(s.resultsDir, "runs", r.id, "slurm.log"));
      assert.equal(headers(log).length, 1, log);
      assert.match(headers(log)[0], new RegExp(`task ${r.index} .*restart 0`));
    }
    assert.ok((await Deno.stat(join(s.resultsDir, "report.html"))).isFile);
    // Two tasks ran at once; the manifest they share is intact.
    assert.equal(await Deno.readTextFile(join(s.resultsDir, "manifest.json")), manifestText);
    const { rows } = await collectSlurmStatus({ manifest, resultsDir: s.resultsDir }, c.run);
    assert.deepEqual(rows.map((r) => r.state), ["done", "done"]);

    // The CLI's status shows Slurm's view; submitting again finds nothing to do.
    const st = await exp(s, ["status", s.file, "--results", s.root]);
    assert.equal(st.code, 0, st.out);
    assert.match(st.out, /report job \d+ COMPLETED; report.html exists/);
    assert.match(st.out, new RegExp(`done ${first.arrayJobId}_1`));
    const again = await submit(s);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /nothing to submit \(2 of 2 runs done/);
    await Deno.remove(s.dir, { recursive: true });
  },
);

withCluster(
  "slurm: a failed run shows exit code and log tail; re-submission runs only it",
  async (c) => {
    const s = await newSweep(
      c,
      "slurm-fail",
      experimentYaml("slurm-fail", [1, 2], "{ epochs: 1, batchSize: 4 }"),
    );
    // Run 1 will find a corrupt checkpoint in its folder, fail to resume, and exit non-zero.
    const planned = await loadExperiment(s.file, { resultsRoot: s.root });
    const [ok, bad] = planned.plan.runs;
    const corrupt = join(s.resultsDir, "runs", bad.id, "checkpoint.safetensors");
    await Deno.mkdir(join(s.resultsDir, "runs", bad.id), { recursive: true });
    await Deno.writeTextFile(corrupt, "not a checkpoint");

    const sub = await submit(s, ["--no-report"]);
    assert.equal(sub.code, 0, sub.out);
    await waitForArray(s);
    const manifest = await manifestOf(s);
    const { rows } = await collectSlurmStatus({ manifest, resultsDir: s.resultsDir }, c.run);
    assert.equal(rows[0].state, "done");
    assert.equal(rows[1].state, "failed");
    assert.equal(rows[1].task?.state, "FAILED");
    assert.ok((rows[1].task?.exitCode ?? 0) > 0, JSON.stringify(rows[1]));
    assert.ok(rows[1].logTail?.some((l) => l.includes("checkpoint")), rows[1].logTail?.join("\n"));

    const st = await exp(s, ["status", s.file, "--results", s.root]);
    assert.equal(st.code, 0, st.out);
    assert.match(st.out, new RegExp(`failed \\d+_1 exit ${rows[1].task?.exitCode}`));
    assert.match(st.out, /\| .*checkpoint/);
    assert.match(st.out, /1 run\(s\) to submit again/);

    // Repair and submit again: only run 1 goes, and run 0 is not touched.
    await Deno.remove(corrupt);
    const okLog = join(s.resultsDir, "runs", ok.id, "slurm.log");
    const okBefore = await Deno.readTextFile(okLog);
    const again = await submit(s, ["--no-report"]);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /submitted 1 of 2 runs .*\(--array=1\); skipped 1 done/);
    const rec = await readSlurmRecord(s.resultsDir);
    assert.equal(rec?.submissions.length, 2);
    assert.deepEqual(rec?.submissions[1].runs, { 1: bad.id });
    await waitForArray(s);
    assert.equal((await statusOf(s, bad.id))?.state, "done");
    assert.equal(await Deno.readTextFile(okLog), okBefore);
    const badLog = await Deno.readTextFile(join(s.resultsDir, "runs", bad.id, "slurm.log"));
    assert.equal(headers(badLog).length, 2, "the second attempt's log is appended");
    await Deno.remove(s.dir, { recursive: true });
  },
);

withCluster(
  "slurm: a requeued running task resumes from its checkpoint, no duplicated lines",
  async (c) => {
    const s = await newSweep(
      c,
      "slurm-requeue",
      experimentYaml(
        "slurm-requeue",
        [1],
        "{ epochs: 20, batchSize: 4, logEvery: 1, lr: { schedule: constant, value: 0.001 } }",
      ),
    );
    const sub = await submit(s, ["--no-report"]);
    assert.equal(sub.code, 0, sub.out);
    const manifest = await manifestOf(s);
    const id = manifest.runs[0].id;
    const arrayJobId = (await readSlurmRecord(s.resultsDir))!.submissions[0].arrayJobId;
    const task = `${arrayJobId}_0`;

    // Once a checkpoint is written and training goes on, requeue the running task.
    await waitFor("a checkpoint while running", async () => {
      const st = await statusOf(s, id);
      return st?.state === "running" && (st.epoch ?? 0) >= 2;
    });
    const rq = await c.run("scontrol", ["requeue", task]);
    assert.equal(rq.code, 0, rq.stderr);
    const requeuedAt = Date.now();
    await waitFor("the requeued task to be pending", async () => {
      return (await queryArray(arrayJobId, c.run))?.get(0)?.state === "PENDING";
    });
    const interrupted = await statusOf(s, id);
    assert.notEqual(interrupted?.state, "done", "the run finished before it could be requeued");
    // Slurm holds a requeued task ~120 s; release it, but not within the second of the
    // requeue: a relaunch in that second is killed ("Job credential revoked").
    await new Promise((r) => setTimeout(r, Math.max(0, requeuedAt + 2000 - Date.now())));
    const up = await c.run("scontrol", ["update", `jobid=${task}`, "StartTime=now"]);
    assert.equal(up.code, 0, up.stderr);

    await waitForArray(s);
    const st = await statusOf(s, id);
    assert.equal(st?.state, "done", await diagnose(s));
    assert.equal(st?.attempts, 2, await diagnose(s));
    const info = (await queryArray(arrayJobId, c.run))?.get(0);
    assert.equal(info?.restarts, 1);
    const log = await Deno.readTextFile(join(s.resultsDir, "runs", id, "slurm.log"));
    assert.deepEqual(headers(log).map((h) => h.replace(/.* restart /, "")), ["0", "1"]);
    const slurmLog = await Deno.readTextFile(
      join(s.resultsDir, "slurm", "logs", `${arrayJobId}_0.out`),
    );
    assert.match(slurmLog, /DUE TO JOB REQUEUE/);

    // Metric lines: each (split, step) once, training steps 1..N without a gap.
    const lines: MetricsLine[] =
      (await Deno.readTextFile(join(s.resultsDir, "runs", id, "metrics.jsonl")))
        .trim().split("\n").map((l) => JSON.parse(l));
    const keys = lines.map((l) => `${l.split}@${l.step}`);
    assert.equal(new Set(keys).size, keys.length, "duplicated metric lines");
    const train = lines.filter((l) => l.split === "train").map((l) => l.step);
    assert.equal(train.length, st?.totalSteps);
    assert.deepEqual(train, train.map((_, i) => train[0] + i));
    const val = lines.filter((l) => l.split === "val").map((l) => l.epoch);
    assert.equal(new Set(val).size, val.length);
    await Deno.remove(s.dir, { recursive: true });
  },
);

withCluster(
  "slurm: a cancelled running task shows cancelled, a cancelled pending one never ran",
  async (c) => {
    const s = await newSweep(
      c,
      "slurm-cancel",
      experimentYaml("slurm-cancel", [1, 2], "{ epochs: 50, batchSize: 4 }"),
    );
    const sub = await submit(s, ["--no-report", "--max-parallel", "1"]);
    assert.equal(sub.code, 0, sub.out);
    const manifest = await manifestOf(s);
    const arrayJobId = (await readSlurmRecord(s.resultsDir))!.submissions[0].arrayJobId;
    // Task 1 waits behind task 0 (%1): cancelling it leaves no trace in Slurm.
    const c1 = await c.run("scancel", [`${arrayJobId}_1`]);
    assert.equal(c1.code, 0, c1.stderr);
    await waitFor("run 0 to start", async () => {
      return (await statusOf(s, manifest.runs[0].id))?.state === "running";
    });
    const c0 = await c.run("scancel", [`${arrayJobId}_0`]);
    assert.equal(c0.code, 0, c0.stderr);
    await waitForArray(s);
    const tasks = await queryArray(arrayJobId, c.run);
    assert.equal(tasks?.has(1), false, "Slurm still knows the cancelled pending task");

    const { rows } = await collectSlurmStatus({ manifest, resultsDir: s.resultsDir }, c.run);
    assert.deepEqual(rows.map((r) => r.state), ["cancelled", "never ran"]);
    assert.ok(rows[0].logTail?.some((l) => l.includes("CANCELLED")), rows[0].logTail?.join("\n"));

    // Both go again, and nothing else.
    const again = await submit(s, ["--no-report"]);
    assert.equal(again.code, 0, again.out);
    const rec = await readSlurmRecord(s.resultsDir);
    assert.deepEqual(rec?.submissions[1].runs, { 0: manifest.runs[0].id, 1: manifest.runs[1].id });
    await Deno.remove(s.dir, { recursive: true });
  },
);

withCluster(
  "slurm: overlapping submissions give one array; runs keep their files when the file is reordered; a live run shows running; OpenBLAS threads from the allocation",
  async (c) => {
    const train = "{ epochs: 400, batchSize: 4, checkpointEvery: 50, evalEvery: 400 }";
    const yaml = (heads: number[]) =>
      experimentYaml("slurm-own", heads, train).replace("backend: cpu", "backend: blas");
    const s = await newSweep(c, "slurm-own", yaml([1, 2]));
    // An sbatch that takes two seconds, as on a busy controller.
    const bin = join(s.dir, "bin");
    await Deno.mkdir(bin);
    const real = (await c.run("bash", ["-c", "command -v sbatch"])).stdout.trim();
    await Deno.writeTextFile(join(bin, "sbatch"), `#!/bin/sh\nsleep 2\nexec ${real} "$@"\n`);
    await Deno.chmod(join(bin, "sbatch"), 0o755);
    const slow = { ...c, env: { ...c.env, PATH: `${bin}:${c.env.PATH ?? Deno.env.get("PATH")}` } };
    const args = ["--no-report", "--cpus-per-task", "2", "--sbatch-arg=--hold"];
    const [a, b] = await Promise.all([
      submit({ ...s, cluster: slow }, args),
      submit({ ...s, cluster: slow }, args),
    ]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    const rec = await readSlurmRecord(s.resultsDir);
    assert.equal(rec?.submissions.length, 1, "two overlapping submissions, one array");
    assert.match(a.out + b.out, /nothing to submit \(0 of 2 runs done, 2 queued or running/);
    const manifest = await manifestOf(s);
    const heads = new Map(manifest.runs.map((r) => [r.id, r.variant["model.heads"]]));

    // The axis's values reordered while the tasks wait: task 0 must still train run 0.
    await Deno.writeTextFile(s.file, yaml([2, 1]));
    const arrayJobId = rec!.submissions[0].arrayJobId;
    const rel = await c.run("scontrol", ["release", arrayJobId]);
    assert.equal(rel.code, 0, rel.stderr);
    await waitFor("a run to show as running", async () => {
      const st = await exp(s, ["status", s.file, "--results", s.root]);
      return /\s(running)\s+\d+\/\d+/.test(
        st.out.split("\n").filter((l) => /^\d/.test(l)).join("\n"),
      );
    });
    await waitForArray(s);
    for (const [id, h] of heads) {
      const dir = join(s.resultsDir, "runs", id);
      assert.equal((await statusOf(s, id))?.state, "done", await diagnose(s));
      const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
      assert.equal(config.id, id);
      assert.equal(config.config.model.heads, h, "the run's own config, not its new index's");
      const env = JSON.parse(await Deno.readTextFile(join(dir, "env.json")));
      assert.equal(env.backend.name, "blas");
      assert.equal(env.backend.details.blasThreads, "2", "OpenBLAS threads = CPUs per task");
      assert.equal(env.slurm.cpusPerTask, "2");
      assert.equal(env.slurm.arrayJobId, arrayJobId);
      assert.match(env.slurm.jobId, /^\d+$/);
      assert.ok(env.slurm.node);
    }
    await Deno.remove(s.dir, { recursive: true });
  },
);
