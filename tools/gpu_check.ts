/**
 * `deno task gpu-check`: is training on this machine's GPU correct, and fast?
 *
 * 1. parity: a small Transformer's and a GMU's training losses and a sweep of
 *    every kernel they use, webgpu against the cpu backend;
 * 2. the bench model's training step (forward + backward + Adam) on webgpu,
 *    median over the timed steps after warm-up;
 * 3. the same model on fuselab's fastest CPU backend (blas, else wasm);
 * 4. the same model in PyTorch on CUDA (tools/torch_gpu_bench.py) when
 *    `python3 -c "import torch; assert torch.cuda.is_available()"` works.
 *
 * Needs no network: run it from a copy of the project with `node_modules/`
 * and a Deno binary. The last line is machine-readable:
 *
 *   gpu-check: device=<adapter> parity=<ok|fail> step_ms=<x> [cpu_step_ms=.. speedup_vs_cpu=..]
 *              [torch_step_ms=<y> ratio_vs_torch=<x/y>]
 *
 * Options: --quick (1 warm-up + 3 timed steps), --steps N, --steady-steps N
 * (default 32, the training loop's longest stretch between reads), --warmup N,
 * --batch N, --seq N, --dropout P, --no-cpu, --no-torch, --no-sweep,
 * --python PATH (default $FUSELAB_PYTHON or python3), --json FILE.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, describeBackend, selectBackend } from "../lib/engine/backend.ts";
import { checkWebGPU, probeWebGPU, webgpuStats } from "../lib/engine/webgpu/backend.ts";
import { distinctCalls, recordKernels, sweepKernels } from "./webgpu/sweep.ts";
import { dispatchCounters } from "../lib/engine/webgpu/dispatch.ts";
import { changedSwitches } from "../lib/engine/switches.ts";
import {
  BENCH_DEFAULTS,
  BenchModel,
  type BenchOptions,
  gmuSteps,
  sweepWorkloads,
  transformerSteps,
} from "./webgpu/workloads.ts";

interface Args {
  quick: boolean;
  steps: number;
  /** Steps of the steady measure (losses read once after all of them). */
  steadySteps: number;
  warmup: number;
  cpuSteps: number;
  bench: BenchOptions;
  cpu: boolean;
  torch: boolean;
  sweep: boolean;
  python: string;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    steps: 10,
    steadySteps: 32,
    warmup: 3,
    cpuSteps: 3,
    bench: { ...BENCH_DEFAULTS },
    cpu: true,
    torch: true,
    sweep: true,
    python: Deno.env.get("FUSELAB_PYTHON") ?? "python3",
  };
  const num = (i: number, flag: string) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v < 0) {
      throw new Error(`gpu-check: ${flag} needs a number, got "${argv[i] ?? ""}"`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === "--quick") {
      a.quick = true;
      a.steps = 3;
      a.steadySteps = 3;
      a.warmup = 1;
      a.cpuSteps = 1;
    } else if (f === "--steps") a.steps = num(++i, f);
    else if (f === "--steady-steps") a.steadySteps = num(++i, f);
    else if (f === "--warmup") a.warmup = num(++i, f);
    else if (f === "--cpu-steps") a.cpuSteps = num(++i, f);
    else if (f === "--batch") a.bench.batch = num(++i, f);
    else if (f === "--seq") a.bench.seq = num(++i, f);
    else if (f === "--dropout") a.bench.dropout = num(++i, f);
    else if (f === "--no-cpu") a.cpu = false;
    else if (f === "--no-torch") a.torch = false;
    else if (f === "--no-sweep") a.sweep = false;
    else if (f === "--python") a.python = argv[++i];
    else if (f === "--json") a.json = argv[++i];
    else {
      throw new Error(
        `gpu-check: unknown option "${f}"\n  fix: use --quick, --steps N, --steady-steps N, --warmup N, ` +
          `--cpu-steps N, --batch N, --seq N, --dropout P, --no-cpu, --no-torch, --no-sweep, ` +
          `--python PATH, --json FILE`,
      );
    }
  }
  return a;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  } catch (e) {
    return { code: -1, out: "", err: (e as Error).message };
  }
}

/** Why a hardware adapter may be missing on an NVIDIA machine. */
async function vulkanHints(): Promise<string[]> {
  const hints: string[] = [];
  const smi = await run("nvidia-smi", ["--query-gpu=name,driver_version", "--format=csv,noheader"]);
  if (smi.code === 0) hints.push(`nvidia-smi sees: ${smi.out.trim().split("\n").join("; ")}`);
  const icds: string[] = [];
  for (const dir of ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]) {
    try {
      for (const e of Deno.readDirSync(dir)) icds.push(`${dir}/${e.name}`);
    } catch { /* absent */ }
  }
  hints.push(`Vulkan ICDs: ${icds.length ? icds.join(", ") : "none"}`);
  if (smi.code === 0 && !icds.some((p) => /nvidia/i.test(p))) {
    hints.push(
      "no NVIDIA Vulkan ICD: in a container, run with NVIDIA_DRIVER_CAPABILITIES=all (or " +
        "compute,utility,graphics); on a host, install the driver's Vulkan part " +
        "(libnvidia-gl) and libvulkan1",
    );
  }
  return hints;
}

interface BenchRun {
  /** Per-step time with the loss read (and so the GPU waited for) every step. */
  ms: number[];
  /** Mean step time over the timed steps issued back to back, each loss read one step late. */
  pipelinedMs: number;
  /** Mean step time over `steadySteps` steps recorded back to back, all losses read once at the end. */
  steadyMs: number;
  losses: number[];
  params: number;
  /** Dispatches a step (counted by the uniform arena; 0 when it is off). */
  dispatches: number;
}

async function benchSteps(
  o: BenchOptions,
  warmup: number,
  steps: number,
  steadySteps = steps,
): Promise<BenchRun> {
  const model = new BenchModel(o);
  const ms: number[] = [], losses: number[] = [];
  const check = (loss: number, i: number) => {
    if (!Number.isFinite(loss)) throw new Error(`bench step ${i}: loss ${loss}`);
    losses.push(loss);
  };
  let d0 = 0;
  try {
    for (let i = 0; i < warmup + steps; i++) {
      if (i === warmup) d0 = dispatchCounters().arenaDispatches;
      const t0 = performance.now();
      const loss = await model.step();
      const dt = performance.now() - t0;
      check(loss, i);
      if (i >= warmup) ms.push(dt);
    }
    const dispatches = (dispatchCounters().arenaDispatches - d0) / Math.max(1, steps);
    // Pipelined: step i+1 is recorded and submitted while step i's loss is read.
    const t0 = performance.now();
    let pending = model.issue();
    for (let i = 1; i < steps; i++) {
      const next = model.issue();
      check(await pending, warmup + steps + i - 1);
      pending = next;
    }
    check(await pending, warmup + 2 * steps - 1);
    const pipelinedMs = (performance.now() - t0) / Math.max(1, steps);
    // Steady: as a training loop that reads its losses only when it logs
    // (lib/train/loop.ts on webgpu: at most 32 steps apart).
    const t1 = performance.now();
    const kept: tf.Scalar[] = [];
    for (let i = 0; i < steadySteps; i++) kept.push(model.record());
    const all = tf.stack(kept);
    const read = await all.data();
    const steadyMs = (performance.now() - t1) / Math.max(1, steadySteps);
    tf.dispose([all, ...kept]);
    read.forEach((loss, i) => check(loss, warmup + 2 * steps + i));
    return { ms, pipelinedMs, steadyMs, losses, params: model.parameterCount(), dispatches };
  } finally {
    model.dispose();
  }
}

async function parity(sweep: boolean): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  await selectBackend("cpu");
  const cpuT = await transformerSteps(4, 7), cpuG = await gmuSteps(4, 8);
  const calls = sweep ? await recordKernels(sweepWorkloads) : [];
  await selectBackend("webgpu");
  const gpuT = await transformerSteps(4, 7), gpuG = await gmuSteps(4, 8);
  for (const [name, cpu, gpu] of [["transformer", cpuT, gpuT], ["gmu", cpuG, gpuG]] as const) {
    const diff = Math.max(...cpu.map((c, i) => Math.abs(c - gpu[i])));
    const good = cpu.every((c, i) => Math.abs(c - gpu[i]) <= 1e-4 * Math.max(1, Math.abs(c)));
    ok &&= good;
    lines.push(
      `  ${name} losses: cpu ${cpu.map((x) => x.toFixed(5)).join(" ")} | webgpu ` +
        `${gpu.map((x) => x.toFixed(5)).join(" ")} | max diff ${diff.toExponential(2)} ` +
        (good ? "ok" : "FAIL"),
    );
  }
  if (sweep) {
    const cases = await sweepKernels(distinctCalls(calls, 2));
    const bad = cases.filter((c) => c.status === "mismatch" || c.status === "error");
    const good = cases.filter((c) => c.status === "ok");
    ok &&= bad.length === 0;
    lines.push(
      `  kernel sweep: ${new Set(calls.map((c) => c.kernel)).size} kernels, ${good.length} ` +
        `cases equal to cpu, ${bad.length} wrong, ${cases.length - good.length - bad.length} n/a`,
    );
    for (const b of bad.slice(0, 20)) {
      lines.push(`    WRONG ${b.kernel} [${b.variant}] ${b.signature}: ${b.detail}`);
    }
  }
  await checkWebGPU();
  return { ok, lines };
}

async function torchBench(a: Args, o: BenchOptions) {
  const probe = await run(a.python, [
    "-c",
    "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 3)",
  ]);
  if (probe.code !== 0) {
    const why = probe.code === 3
      ? "torch.cuda.is_available() is False"
      : probe.code === -1
      ? `${a.python} not found`
      : `torch not importable (${probe.err.trim().split("\n").pop()})`;
    return { skipped: why };
  }
  const script = new URL("./torch_gpu_bench.py", import.meta.url).pathname;
  const r = await run(a.python, [
    script,
    "--device=cuda",
    `--steps=${a.steps}`,
    `--steady-steps=${a.steadySteps}`,
    `--warmup=${a.warmup}`,
    `--batch=${o.batch}`,
    `--seq=${o.seq}`,
    `--vocab=${o.vocab}`,
    `--d-model=${o.dModel}`,
    `--heads=${o.h}`,
    `--d-ff=${o.dFF}`,
    `--layers=${o.layers}`,
    `--dropout=${o.dropout}`,
  ]);
  const last = r.out.trim().split("\n").pop() ?? "";
  try {
    return {
      result: JSON.parse(last) as {
        device: string;
        step_ms: number;
        pipelined_step_ms?: number;
        steady_step_ms?: number;
        params: number;
      },
    };
  } catch {
    return { skipped: `torch_gpu_bench.py failed (exit ${r.code}): ${r.err.trim().slice(-400)}` };
  }
}

/** Runs the check; returns the exit code (0 when parity holds). */
export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
  const o = a.bench;
  const summary: Record<string, unknown> = { bench: o };
  const probe = await probeWebGPU();
  if (!probe.ok) {
    console.log(`webgpu: ${probe.why}`);
    for (const h of await vulkanHints()) console.log(`  ${h}`);
    console.log(`gpu-check: device=none parity=fail step_ms=NaN`);
    return 2;
  }
  console.log(`webgpu adapter: ${probe.name} (${probe.software ? "software" : "hardware"})`);
  if (probe.software) {
    console.log("  note: a software adapter (CPU rasteriser); timings are not a GPU's");
    for (const h of await vulkanHints()) console.log(`  ${h}`);
  }

  console.log("parity (webgpu vs cpu backend):");
  let par: { ok: boolean; lines: string[] };
  try {
    par = await parity(a.sweep);
  } catch (e) {
    par = { ok: false, lines: [`  parity run failed: ${(e as Error).message}`] };
  }
  for (const l of par.lines) console.log(l);
  summary.parity = par.ok;

  const info = await selectBackend("webgpu");
  console.log(describeBackend(info));
  const changed = changedSwitches();
  console.log(`switches: ${changed.length ? changed.join(" ") : "all at their defaults"}`);
  console.log(
    `bench model: vocab ${o.vocab}, d_model ${o.dModel}, ${o.h} heads, d_ff ${o.dFF}, ` +
      `${o.layers} encoder layers, seq ${o.seq}, batch ${o.batch}, dropout ${o.dropout}; ` +
      `forward + backward + Adam, ${a.warmup} warm-up + ${a.steps} timed steps`,
  );
  let stepMs = NaN, pipeMs = NaN, steadyMs = NaN, dispatches = NaN;
  try {
    const g = await benchSteps(o, a.warmup, a.steps, a.steadySteps);
    stepMs = median(g.ms);
    pipeMs = g.pipelinedMs;
    steadyMs = g.steadyMs;
    dispatches = g.dispatches;
    console.log(
      `  webgpu: ${g.params} parameters, step ms ${g.ms.map(fmt).join(" ")} → median ` +
        `${fmt(stepMs)}; pipelined ${
          fmt(pipeMs)
        }; steady (${a.steadySteps} steps, losses read once) ${fmt(steadyMs)} ` +
        `ms a step; loss ${g.losses[0].toFixed(3)} → ` +
        `${g.losses.at(-1)!.toFixed(3)}; ${fmt(g.dispatches)} dispatches a step`,
    );
    summary.webgpu = {
      step_ms: g.ms,
      median: stepMs,
      pipelined_step_ms: pipeMs,
      steady_step_ms: steadyMs,
      losses: g.losses,
      params: g.params,
      dispatches: g.dispatches,
    };
  } catch (e) {
    console.log(`  webgpu bench failed: ${(e as Error).message}`);
  }
  summary.shaderFixes = webgpuStats().shaderFixes;

  let tail = "";
  if (a.cpu) {
    let cpuInfo;
    try {
      cpuInfo = await selectBackend("blas");
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      cpuInfo = await selectBackend("wasm");
    }
    const c = await benchSteps(o, 1, a.cpuSteps);
    // On the CPU the read costs nothing; the fastest of the three ways is its time.
    const cpuMs = Math.min(median(c.ms), c.pipelinedMs, c.steadyMs);
    console.log(
      `  ${cpuInfo.name} (fastest CPU backend here): step ms ${c.ms.map(fmt).join(" ")}; ` +
        `pipelined ${fmt(c.pipelinedMs)}; steady ${fmt(c.steadyMs)}`,
    );
    tail += ` cpu_backend=${cpuInfo.name} cpu_step_ms=${fmt(cpuMs)} speedup_vs_cpu=${
      fmt(cpuMs / stepMs)
    } speedup_vs_cpu_pipelined=${fmt(cpuMs / pipeMs)} speedup_vs_cpu_steady=${
      fmt(cpuMs / steadyMs)
    }`;
    summary.cpu = { backend: cpuInfo.name, step_ms: c.ms, median: cpuMs };
  }
  if (a.torch) {
    const t = await torchBench(a, o);
    if (t.result) {
      const tp = t.result.pipelined_step_ms ?? NaN;
      const ts = t.result.steady_step_ms ?? NaN;
      console.log(
        `  pytorch ${t.result.device}: median step ms ${fmt(t.result.step_ms)}; pipelined ${
          fmt(tp)
        }; steady ${fmt(ts)}`,
      );
      tail += ` torch_step_ms=${fmt(t.result.step_ms)} ratio_vs_torch=${
        fmt(stepMs / t.result.step_ms)
      } torch_pipelined_ms=${fmt(tp)} ratio_pipelined=${fmt(pipeMs / tp)} torch_steady_ms=${
        fmt(ts)
      } ratio_steady=${fmt(steadyMs / ts)}`;
      summary.torch = t.result;
    } else {
      console.log(`  pytorch CUDA skipped: ${t.skipped}`);
      summary.torch = { skipped: t.skipped };
    }
  }
  const device = probe.name.replace(/\s+/g, "_");
  const line = `gpu-check: device=${device} parity=${par.ok ? "ok" : "fail"} step_ms=${
    fmt(stepMs)
  } pipelined_ms=${fmt(pipeMs)} steady_ms=${fmt(steadyMs)} dispatches=${fmt(dispatches)}${tail}`;
  if (a.json) await Deno.writeTextFile(a.json, JSON.stringify({ ...summary, line }, null, 2));
  console.log(line);
  return par.ok && Number.isFinite(stepMs) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
