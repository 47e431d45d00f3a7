/**
 * A realistic synthetic results folder (deterministic): two axes, three
 * seeds, one failed and one diverged run, and every artifact kind. Used by
 * the tests and to look at a report without training anything:
 *
 * ```sh
 * deno run --allow-write lib/report/synthetic.ts /tmp/results/demo
 * deno task report /tmp/results/demo
 * ```
 *
 * @module
 */
import type {
  EnvRecord,
  Manifest,
  ManifestRun,
  MetricsLine,
  StatusRecord,
} from "../contract/results.ts";

/** A small seeded PRNG (mulberry32), so the folder is identical every time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeJson(path: string, value: unknown) {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** The env.json every synthetic run carries. */
export const SYNTHETIC_ENV: EnvRecord = {
  deno: "2.9.6",
  v8: "14.0",
  typescript: "5.9",
  tfjs: "4.22.0",
  backend: { name: "wasm", tfBackend: "wasm", reason: "auto: tfjs-node absent", details: {} },
  os: "linux",
  arch: "x86_64",
  cpus: 2,
  memoryGiB: 24,
  codeVersion: "fbe0f89",
};

function sinusoid(positions: number, d: number): number[][] {
  return Array.from({ length: positions }, (_, p) =>
    Array.from({ length: d }, (_, i) => {
      const angle = p / 10000 ** ((2 * Math.floor(i / 2)) / d);
      return i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }));
}

/** The manifest of the synthetic positional-encoding × heads ablation (3 seeds). */
function syntheticManifest(): Manifest {
  const positional = ["sinusoid", "learned"];
  const heads = [2, 4];
  const seeds = [0, 1, 2];
  const runs: ManifestRun[] = [];
  for (const p of positional) {
    for (const h of heads) {
      for (const seed of seeds) {
        const variantKey = `model.positional=${p},model.heads=${h}`;
        runs.push({
          id: `${p}-h${h}-s${seed}`,
          index: runs.length,
          variant: { "model.positional": p, "model.heads": h },
          variantKey,
          seed,
        });
      }
    }
  }
  const manifest: Manifest = {
    experiment: "pe_ablation",
    file: "experiments/pe_ablation.ts",
    description:
      "Does a learned positional table copy as well as the sinusoid, and do heads matter?",
    axes: { "model.positional": positional, "model.heads": heads },
    seeds,
    primary: { metric: "exact_match", higherIsBetter: true },
    compare: ["token_accuracy"],
    baseline: runs[0].variantKey,
    runs,
  };
  return manifest;
}

/** A run's metrics lines: a train line every 10 steps, a val line every 100. */
function syntheticMetrics(
  rand: () => number,
  skill: number,
  steps: number,
  diverged: boolean,
): MetricsLine[] {
  const lines: MetricsLine[] = [];
  for (let step = 10; step <= steps; step += 10) {
    const loss = 2.4 * Math.exp(-step / (260 + 40 * (1 - skill) * 10)) + 0.05 +
      0.04 * (rand() - 0.5);
    lines.push({
      step,
      epoch: Math.floor(step / 100),
      split: "train",
      time: step * 0.05,
      loss: diverged && step > 380 ? loss * 40 : loss,
      lr: 1e-3,
      itemsPerS: 2000 + 100 * rand(),
    });
    if (step % 100 === 0) {
      const prog = 1 / (1 + Math.exp(-(step - 500) / 120));
      lines.push({
        step,
        epoch: step / 100,
        split: "val",
        time: step * 0.05,
        loss: loss * 1.1 + 0.02,
        exact_match: skill * prog,
        token_accuracy: 0.1 + 0.9 * Math.min(1, (skill + 0.05) * prog),
      });
    }
  }
  return lines;
}

/** A run's status: failed, diverged or done. */
function syntheticStatus(
  r: ManifestRun,
  rand: () => number,
  skill: number,
  outcome: { failed: boolean; diverged: boolean },
): StatusRecord {
  const { failed, diverged } = outcome;
  const p = r.variant["model.positional"] as string;
  const h = r.variant["model.heads"] as number;
  const started = new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + r.index * 75_000);
  const status: StatusRecord = failed
    ? {
      state: "failed",
      startedAt: started.toISOString(),
      endedAt: new Date(started.getTime() + 2000).toISOString(),
      trainSeconds: 0.4,
      step: 0,
      epoch: 0,
      totalSteps: 1200,
      error: "RangeError: position 80 exceeds the learned table (maxLen 64) at evaluation",
      attempts: 1,
      parameters: 52_000 + h * 10,
    }
    : diverged
    ? {
      state: "diverged",
      startedAt: started.toISOString(),
      endedAt: new Date(started.getTime() + 21_000).toISOString(),
      trainSeconds: 20.5,
      step: 412,
      epoch: 4,
      totalSteps: 1200,
      error: "train/loss became NaN at step 412 (last finite 96.1 at step 410)",
      attempts: 1,
      parameters: 49_000 + h * 10,
    }
    : {
      state: "done",
      startedAt: started.toISOString(),
      endedAt: new Date(started.getTime() + 61_000).toISOString(),
      trainSeconds: 60 + 5 * rand(),
      step: 1200,
      epoch: 12,
      totalSteps: 1200,
      final: {
        "val/exact_match": skill,
        "test/exact_match": skill - 0.01,
        "val/token_accuracy": Math.min(1, skill + 0.05),
        "test/token_accuracy": Math.min(1, skill + 0.04),
        "val/loss": 0.12 + (1 - skill),
      },
      parameters: (p === "learned" ? 52_000 : 49_000) + h * 10,
      throughput: 2000 + 100 * rand(),
      attempts: r.seed === 0 ? 2 : 1,
    };
  return status;
}

/** A run's artifacts: positional table, attention maps, length generalization, GMU gates. */
async function writeSyntheticArtifacts(
  rdir: string,
  r: ManifestRun,
  rand: () => number,
  skill: number,
): Promise<void> {
  const p = r.variant["model.positional"] as string;
  const h = r.variant["model.heads"] as number;
  const tokens = ["<s>", "3", "7", "1", "9", "4", "2", "8", "5", "6"];
  const matrix = p === "sinusoid"
    ? sinusoid(48, 32)
    : sinusoid(48, 32).map((row) => row.map((v) => 0.6 * v + 0.5 * (rand() - 0.5)));
  await writeJson(`${rdir}/artifacts/positional.json`, { kind: p, matrix });
  const n = tokens.length;
  const layers = [0, 1].map((layer) => ({
    layer,
    heads: Array.from({ length: h }, (_, head) =>
      Array.from({ length: n }, (_, q) => {
        const raw = Array.from({ length: n }, (_, k) =>
          Math.exp(-Math.abs(k - ((q + head + layer) % n)) * (1.5 + rand())));
        const s = raw.reduce((a, b) =>
          a + b, 0);
        return raw.map((v) => v / s);
      })),
  }));
  await writeJson(`${rdir}/artifacts/attention.json`, { tokens, layers });
  const lengths = [5, 10, 15, 20, 30, 40];
  await writeJson(`${rdir}/artifacts/length_generalization.json`, {
    lengths,
    metrics: {
      exact_match: lengths.map((L) =>
        L <= 10 ? skill : skill * Math.exp(-(L - 10) / (p === "sinusoid" ? 25 : 8))
      ),
    },
    positions: Array.from({ length: 40 }, (_, i) => i + 1),
    byPosition: {
      token_accuracy: Array.from(
        { length: 40 },
        (_, i) => i < 10 ? skill : skill * Math.exp(-(i - 9) / (p === "sinusoid" ? 20 : 6)),
      ),
    },
    trainLength: 10,
  });
  const samples = 120;
  const informative = Array.from({ length: samples }, () => (rand() < 0.5 ? 0 : 1));
  const values = informative.map((inf) => {
    const z = Math.min(1, Math.max(0, (inf === 0 ? 0.75 : 0.3) + 0.35 * (rand() - 0.5)));
    return [z, 1 - z];
  });
  await writeJson(`${rdir}/artifacts/gates.json`, {
    modalities: ["text", "image"],
    values,
    informative,
  });
}

/**
 * Writes `<dir>/manifest.json` and `<dir>/runs/*` for a positional-encoding ×
 * heads ablation of the copy task. Returns the manifest.
 */
export async function writeSyntheticExperiment(dir: string): Promise<Manifest> {
  const manifest = syntheticManifest();
  await Deno.mkdir(dir, { recursive: true });
  await writeJson(`${dir}/manifest.json`, manifest);
  for (const r of manifest.runs) {
    const rand = prng(1000 + r.index * 7 + r.seed);
    const p = r.variant["model.positional"] as string;
    const h = r.variant["model.heads"] as number;
    const skill = (p === "sinusoid" ? 0.93 : 0.86) + (h === 4 ? 0.03 : 0) + 0.03 * (rand() - 0.5);
    const rdir = `${dir}/runs/${r.id}`;
    await Deno.mkdir(`${rdir}/artifacts`, { recursive: true });
    const failed = p === "learned" && h === 4 && r.seed === 2;
    const diverged = p === "sinusoid" && h === 2 && r.seed === 1;
    const steps = failed ? 0 : diverged ? 410 : 1200;
    const lines = syntheticMetrics(rand, skill, steps, diverged);
    await Deno.writeTextFile(
      `${rdir}/metrics.jsonl`,
      lines.map((l) => JSON.stringify(l)).join("\n") + (lines.length ? "\n" : ""),
    );
    const status = syntheticStatus(r, rand, skill, { failed, diverged });
    await writeJson(`${rdir}/status.json`, status);
    await writeJson(`${rdir}/env.json`, SYNTHETIC_ENV);
    await writeJson(`${rdir}/config.json`, {
      id: r.id,
      experiment: manifest.experiment,
      variant: r.variant,
      variantKey: r.variantKey,
      seed: r.seed,
      config: { model: { positional: p, heads: h } },
    });
    if (!failed) await writeSyntheticArtifacts(rdir, r, rand, skill);
  }
  return manifest;
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (!dir) {
    console.error("usage: deno run --allow-write lib/report/synthetic.ts <results/<name> folder>");
    Deno.exit(2);
  }
  await writeSyntheticExperiment(dir);
  console.log(`wrote ${dir}`);
}
