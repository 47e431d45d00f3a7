/**
 * tools/slurm/start.sh and stop.sh: a cluster starts, runs a job, and stops
 * with its daemons and job processes, leaving a second cluster running.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { slurmMissing, startCluster } from "./cluster.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";
const missing = await slurmMissing() ?? ciOnly;
if (missing) console.log(`tools/slurm/cluster_test.ts skipped: ${missing}`);

/** Whether a process exists (`kill -0`; /proc needs --allow-all in Deno 2). */
async function alive(pid: number): Promise<boolean> {
  const o = await new Deno.Command("bash", { args: ["-c", `kill -0 ${pid}`], stderr: "null" })
    .output();
  return o.code === 0;
}

async function waitFor(what: string, cond: () => Promise<boolean>, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

Deno.test({
  name: "tools/slurm: start.sh runs a job; stop.sh stops only its own cluster and jobs",
  ignore: missing !== undefined,
  async fn() {
    const a = await startCluster();
    const b = await startCluster();
    try {
      const conf = await Deno.readTextFile(a.conf);
      for (
        const line of [
          "ProctrackType=proctrack/linuxproc",
          "EnforcePartLimits=ALL",
          "MinJobAge=86400",
          "JobCompType=jobcomp/filetxt",
        ]
      ) assert.ok(conf.includes(line), `slurm.conf lacks ${line}`);
      assert.match(conf, /^ClusterName=\S+$/m);
      assert.match(conf, /^AuthInfo=socket=\S+munge\.socket$/m);
      assert.match(conf, /RealMemory=\d+/);

      // A job that records its pid and sleeps; it must run, then die with its cluster.
      const pidFile = join(a.dir, "job.pid");
      const sb = await a.run("sbatch", [
        "--parsable",
        `--output=${join(a.dir, "job.out")}`,
        `--wrap=echo $$ > ${pidFile}; exec sleep 300`,
      ]);
      assert.equal(sb.code, 0, sb.stderr);
      await waitFor("the job to start", async () => {
        try {
          return (await Deno.readTextFile(pidFile)).trim() !== "";
        } catch {
          return false;
        }
      });
      const jobPid = Number((await Deno.readTextFile(pidFile)).trim());
      assert.ok(await alive(jobPid));
      const daemons = ["slurmctld.pid", "slurmd.pid", "munge/munged.pid"].map((f) =>
        Number(Deno.readTextFileSync(join(a.dir, f)).trim())
      );
      for (const pid of daemons) assert.ok(await alive(pid), `daemon ${pid} not running`);
      // An impossible request is refused at once (EnforcePartLimits=ALL), not queued forever.
      const tooBig = await a.run("sbatch", ["--mem=999999999", "--wrap=true"]);
      assert.notEqual(tooBig.code, 0);

      await a.stop();
      for (const pid of [...daemons, jobPid]) {
        assert.ok(!(await alive(pid)), `pid ${pid} survived stop`);
      }
      await assert.rejects(Deno.stat(a.dir));

      // The other cluster still answers and runs jobs.
      const info = await b.run("sinfo", ["-h", "-o", "%T"]);
      assert.equal(info.code, 0, info.stderr);
      assert.equal(info.stdout.trim(), "idle");
      const ok = await b.run("sbatch", ["--parsable", "--wrap=exit 0"]);
      assert.equal(ok.code, 0, ok.stderr);
      const id = ok.stdout.trim();
      await waitFor("the second cluster's job to complete", async () => {
        const q = await b.run("squeue", ["-h", "-t", "all", "-j", id, "-o", "%T"]);
        return q.stdout.trim() === "COMPLETED";
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  },
});
