/**
 * What a run ran on (`env.json`): Deno, V8, TypeScript and TF.js versions,
 * the backend and why it was chosen, the machine, the code version, and
 * fuselab's settings (`FUSELAB_*` variables and switches).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import os from "node:os";
import type { BackendInfo } from "../engine/backend.ts";
import { changedSwitches } from "../engine/switches.ts";
import type { EnvRecord } from "../contract/results.ts";

let codeVersion: Promise<string> | undefined;

/**
 * `git describe --always --dirty` of the project, or "unknown". Worker
 * processes inherit it through `FUSELAB_CODE_VERSION`.
 */
export function getCodeVersion(): Promise<string> {
  codeVersion ??= (async () => {
    const inherited = Deno.env.get("FUSELAB_CODE_VERSION");
    if (inherited) return inherited;
    try {
      const root = new URL("../../", import.meta.url).pathname;
      const out = await new Deno.Command("git", {
        args: ["-C", root, "describe", "--always", "--dirty"],
        stdout: "piped",
        stderr: "null",
      }).output();
      const v = new TextDecoder().decode(out.stdout).trim();
      return out.success && v ? v : "unknown";
    } catch {
      return "unknown";
    }
  })();
  return codeVersion;
}

/**
 * fuselab's settings that can change how a run computes: every `FUSELAB_*`
 * environment variable (the code version aside, recorded on its own), and
 * the switches of fuselab's own kernels not at their defaults however they
 * were set (`ENV=0|1`). Sorted by name.
 */
export function fuselabSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k.startsWith("FUSELAB_") && k !== "FUSELAB_CODE_VERSION") out[k] = v;
  }
  for (const s of changedSwitches()) {
    const [k, v] = s.split("=");
    out[k] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : 1));
}

/** Slurm's variables of the job this process runs in, by short name; undefined outside Slurm. */
export function slurmJob(): Record<string, string> | undefined {
  const env = Deno.env.toObject();
  if (!env.SLURM_JOB_ID) return undefined;
  const names: Record<string, string> = {
    jobId: "SLURM_JOB_ID",
    arrayJobId: "SLURM_ARRAY_JOB_ID",
    arrayTaskId: "SLURM_ARRAY_TASK_ID",
    node: "SLURMD_NODENAME",
    cpusPerTask: "SLURM_CPUS_PER_TASK",
    restartCount: "SLURM_RESTART_COUNT",
    partition: "SLURM_JOB_PARTITION",
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(names)) if (env[v] !== undefined) out[k] = env[v];
  out.node ??= Deno.hostname();
  return out;
}

/** The environment record of a run on `backend`. */
export async function envRecord(backend: BackendInfo): Promise<EnvRecord> {
  const slurm = slurmJob();
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    tfjs: tf.version.tfjs,
    backend: {
      name: backend.name,
      tfBackend: backend.tfBackend,
      reason: backend.reason,
      details: backend.details,
    },
    os: `${Deno.build.os} ${os.release()}`,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    codeVersion: await getCodeVersion(),
    settings: fuselabSettings(),
    ...(slurm ? { slurm } : {}),
  };
}
