/**
 * A private single-node Slurm cluster for tests, started by `start.sh` in a
 * temporary folder and stopped by `stop.sh`, which stops only what `start.sh`
 * started there.
 *
 * ```ts
 * const missing = await slurmMissing();
 * if (missing) console.log(`skipped: ${missing}`);
 * const cluster = await startCluster();
 * try { ... run commands with cluster.env ... } finally { await cluster.stop(); }
 * ```
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/** A running test cluster. */
export interface TestCluster {
  /** The cluster's folder (conf, state, logs). */
  dir: string;
  /** Its slurm.conf. */
  conf: string;
  /** Environment for Slurm clients and for anything that submits: `SLURM_CONF`, PATH. */
  env: Record<string, string>;
  /** Runs a Slurm client (`squeue`, `scontrol`...) against this cluster. */
  run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops its daemons and job processes, and removes its folder. */
  stop(): Promise<void>;
}

const BINARIES = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol"];

/**
 * Why a cluster cannot be started here (missing packages, not root), or undefined.
 * CI installs them: `apt-get install -y slurmctld slurmd slurm-client munge`.
 */
export async function slurmMissing(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const b of BINARIES) {
    const found = await Promise.any(
      ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map((d) =>
        Deno.stat(join(d, b)).then((s) => (s.isFile ? true : Promise.reject()))
      ),
    ).catch(() => false);
    if (!found) missing.push(b);
  }
  if (missing.length) {
    return `Slurm test cluster unavailable: ${missing.join(", ")} not installed ` +
      `(apt-get install -y slurmctld slurmd slurm-client munge)`;
  }
  if (Deno.uid() !== 0) {
    return "Slurm test cluster unavailable: its daemons run as root (SlurmUser=root); " +
      "run the tests as root, as CI does";
  }
  return undefined;
}

/** Starts a cluster in a new temporary folder; throws with the daemons' log tail on failure. */
export async function startCluster(): Promise<TestCluster> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab_slurm_" });
  const out = await new Deno.Command("bash", {
    args: [join(HERE, "start.sh"), dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) {
    await new Deno.Command("bash", { args: [join(HERE, "stop.sh"), dir, "--remove"] }).output();
    throw new Error(`tools/slurm/start.sh failed (exit ${out.code}): ${dec.decode(out.stderr)}`);
  }
  const conf = join(dir, "slurm.conf");
  const env = {
    SLURM_CONF: conf,
    PATH: `${Deno.env.get("PATH") ?? ""}:/usr/sbin:/sbin`,
  };
  return {
    dir,
    conf,
    env,
    async run(cmd, args) {
      const o = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
        .output();
      return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
    },
    async stop() {
      await new Deno.Command("bash", {
        args: [join(HERE, "stop.sh"), dir, "--remove"],
        stdout: "null",
        stderr: "null",
      }).output();
    },
  };
}
