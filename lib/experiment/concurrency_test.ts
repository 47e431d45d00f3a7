/**
 * Real processes on one results folder: two sweeps at once, the parent of a
 * `--jobs` sweep killed, damaged files, leftovers of killed writes.
 */
import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { isLocked } from "./lock.ts";
import { WORKER_PERMISSIONS } from "./sweep.ts";
import { runDirs, runMetrics, runStatus, writeDummyExperiment } from "./experiment_test_support.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Writes a dummy-task experiment (on cpu) into a fresh folder; returns the file and a results root. */
function experiment(body: string): Promise<{ dir: string; file: string; results: string }> {
  return writeDummyExperiment(`  backend: "cpu",\n${body}`, "fuselab-conc-");
}

/** `deno task exp` as its own process. */
function spawnExp(...args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...WORKER_PERMISSIONS, "--config", CONFIG, CLI, "exp", ...args, "--plain"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the CLI in this process, capturing its lines; returns the exit status. */
async function exp(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const [log, error, write] = [console.log, console.error, Deno.stdout.writeSync];
  console.log = console.error = (...a: unknown[]) => lines.push(a.join(" "));
  Deno.stdout.writeSync = (b: Uint8Array) => {
    lines.push(new TextDecoder().decode(b).trimEnd());
    return b.length;
  };
  try {
    const code = await main([...args, "--plain", "--no-report"]);
    return { code, out: lines.join("\n") };
  } finally {
    [console.log, console.error, Deno.stdout.writeSync] = [log, error, write];
  }
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const SLOW = `  name: "conc",
  task: { name: "dummy_linear", sleepMs: 15 },
  train: { epochs: 16, lr: { schedule: "constant", value: 0.05 }, logEvery: 1 },
  axes: { "task.dim": [2, 3, 4, 5] },`;

Deno.test("concurrency: two sweeps on one folder train every run once, each exactly as a lone run", async () => {
  const { dir, file, results } = await experiment(SLOW);
  const first = (await runDirs(file, results)).dirs[0];
  const a = spawnExp(file, "--results", results, "--no-report");
  // The second starts once the first trains, so that they overlap even on a loaded machine.
  await waitFor(
    "the first sweep to start",
    async () => (await runStatus(first).catch(() => null))?.state === "running",
  );
  const b = spawnExp(file, "--results", results, "--no-report");
  const [ra, rb] = await Promise.all([a.output(), b.output()]);
  const text = new TextDecoder().decode(ra.stdout) + new TextDecoder().decode(rb.stdout);
  assert.equal(ra.code, 0, new TextDecoder().decode(ra.stderr));
  assert.equal(rb.code, 0, new TextDecoder().decode(rb.stderr));
  // A lone sweep of the same experiment, for reference.
  const ref = await experiment(SLOW);
  assert.equal((await exp(ref.file, "--results", ref.results)).code, 0);
  const dirs = (await runDirs(file, results)).dirs,
    refDirs = (await runDirs(ref.file, ref.results)).dirs;
  for (const [i, d] of dirs.entries()) {
    const s = await runStatus(d);
    assert.equal(s.state, "done");
    assert.equal(s.attempts, 1, `run ${i} was trained by one process, once`);
    assert.deepEqual(await runMetrics(d), await runMetrics(refDirs[i]), `run ${i}'s metrics.jsonl`);
  }
  // Each process says which runs it left to the other.
  assert.match(text, /being trained by another process; skipped|finished by another process/);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(ref.dir, { recursive: true });
});

Deno.test("concurrency: a run being trained shows as running in status, and a sweep skips it", async () => {
  const { dir, file, results } = await experiment(`  name: "live",
  task: { name: "dummy_linear", sleepMs: 40 },
  train: { epochs: 8, lr: { schedule: "constant", value: 0.05 } },`);
  const [d] = (await runDirs(file, results)).dirs;
  const child = spawnExp(file, "--results", results, "--no-report");
  await waitFor("the run to start", async () => (await runStatus(d).catch(() => null))?.step === 0);
  assert.ok(isLocked(d));
  const st = await exp("status", file, "--results", results);
  assert.match(st.out, /live: 1 running of 1 runs/);
  const second = await exp(file, "--results", results);
  assert.equal(second.code, 0);
  assert.match(second.out, /being trained by another process; skipped/);
  assert.match(second.out, /0 done, 1 skipped, 1 left to the process training them/);
  const r = await child.output();
  assert.equal(r.code, 0);
  assert.equal((await runStatus(d)).attempts, 1);
  assert.ok(!isLocked(d), "the lock ends with its process");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("concurrency: kill -9 of a --jobs 2 parent ends its workers; a plain re-run completes every run", async () => {
  const body = `  name: "orphans",
  task: { name: "dummy_linear", sleepMs: 20 },
  train: { epochs: 40, lr: { schedule: "constant", value: 0.05 }, logEvery: 1 },
  axes: { "task.dim": [3, 4] },`;
  const { dir, file, results } = await experiment(body);
  const dirs = (await runDirs(file, results)).dirs;
  const parent = spawnExp(file, "--results", results, "--no-report", "--jobs", "2");
  await waitFor("both runs to checkpoint", async () => {
    for (const d of dirs) {
      if (!(await loadCheckpoint(`${d}/checkpoint.safetensors`).catch(() => undefined))) {
        return false;
      }
    }
    return true;
  });
  parent.kill("SIGKILL");
  await parent.status;
  // The workers notice and end (their locks go with them), leaving the runs interrupted.
  await waitFor("the workers to end", () => dirs.every((d) => !isLocked(d)), 30_000);
  // On a loaded machine one worker may have finished before the other wrote its first
  // checkpoint; at least one run was cut off, and none is marked failed.
  const states = await Promise.all(dirs.map(async (d) => (await runStatus(d)).state));
  assert.ok(states.includes("running"), `a run was interrupted: ${states}`);
  assert.ok(states.every((s) => s === "running" || s === "done"), `none failed: ${states}`);
  const again = await exp(file, "--results", results);
  assert.equal(again.code, 0, again.out);
  const ref = await experiment(body);
  assert.equal((await exp(ref.file, "--results", ref.results)).code, 0);
  const refDirs = (await runDirs(ref.file, ref.results)).dirs;
  for (const [i, d] of dirs.entries()) {
    const s = await runStatus(d);
    assert.equal(s.state, "done");
    assert.equal(s.attempts, states[i] === "running" ? 2 : 1);
    assert.deepEqual(await runMetrics(d), await runMetrics(refDirs[i]));
  }
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(ref.dir, { recursive: true });
});

Deno.test("damaged files: a truncated status.json is named with its fix, other runs train, --force repairs it", async () => {
  const { dir, file, results } = await experiment(`  name: "damaged",
  task: { name: "dummy_linear" },
  train: { epochs: 1, lr: { schedule: "constant", value: 0.05 } },
  axes: { "task.dim": [2, 3] },`);
  assert.equal((await exp(file, "--results", results)).code, 0);
  const dirs = (await runDirs(file, results)).dirs;
  const text = await Deno.readTextFile(`${dirs[0]}/status.json`);
  await Deno.writeTextFile(`${dirs[0]}/status.json`, text.slice(0, 40));
  const id = dirs[0].split("/").pop()!;
  for (const args of [["status", file], [file, "--dry-run"]]) {
    const r = await exp(...args, "--results", results);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`${id}.*damaged`));
    assert.match(r.out, new RegExp(`status\\.json: invalid JSON.*--force ${id}`));
  }
  const run = await exp(file, "--results", results);
  assert.equal(run.code, 1);
  assert.match(run.out, new RegExp(`${id}/status\\.json: invalid JSON.*\`--force ${id}\``));
  assert.doesNotMatch(run.out, /\n\s+at /, "no stack trace");
  const fixed = await exp(file, "--results", results, "--force", id);
  assert.equal(fixed.code, 0, fixed.out);
  assert.equal((await runStatus(dirs[0])).state, "done");
  // A damaged checkpoint: the run fails naming the file and the fix, which repairs it.
  const other = dirs[1].split("/").pop()!;
  await Deno.writeTextFile(`${dirs[1]}/status.json`, JSON.stringify({ state: "running" }));
  await Deno.writeTextFile(`${dirs[1]}/checkpoint.safetensors`, "not a checkpoint");
  const broken = await exp(file, "--results", results);
  assert.equal(broken.code, 1);
  const failed = await runStatus(dirs[1]);
  assert.equal(failed.state, "failed");
  assert.match(
    failed.error ?? "",
    new RegExp(`^\\S+checkpoint\\.safetensors: cannot be read to resume .*\`--force ${other}\``),
  );
  assert.equal((failed.error ?? "").split("\n").length, 1, "one line, no stack trace");
  assert.equal((await exp(file, "--results", results, "--force", other)).code, 0);
  assert.equal((await runStatus(dirs[1])).state, "done");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("leftovers: temporary files of a killed write are swept when the run is next trained", async () => {
  const { dir, file, results } = await experiment(`  name: "tmp",
  task: { name: "dummy_linear" },
  train: { epochs: 2, lr: { schedule: "constant", value: 0.05 } },`);
  const [d] = (await runDirs(file, results)).dirs;
  await Deno.mkdir(`${d}/artifacts`, { recursive: true });
  await Deno.writeTextFile(`${d}/status.json`, JSON.stringify({ state: "running" }));
  await Deno.writeTextFile(`${d}/checkpoint.safetensors.99999.3.tmp`, "partial");
  await Deno.writeTextFile(`${d}/artifacts/x.json.99999.0.tmp`, "partial");
  assert.equal((await exp(file, "--results", results)).code, 0);
  const names: string[] = [];
  for await (const e of Deno.readDir(d)) names.push(e.name);
  assert.ok(!names.some((n) => n.endsWith(".tmp")), names.join(", "));
  await assert.rejects(Deno.stat(`${d}/artifacts/x.json.99999.0.tmp`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("leftovers: a report build removes the chart temp files a killed build left", async () => {
  const { dir, file, results } = await experiment(`  name: "charts",
  task: { name: "dummy_linear" },
  train: { epochs: 1, lr: { schedule: "constant", value: 0.05 } },`);
  assert.equal((await exp(file, "--results", results)).code, 0);
  const charts = `${results}/charts/charts`;
  await Deno.mkdir(charts, { recursive: true });
  const old = new Date(Date.now() - 3_600_000);
  for (const name of ["loss.png.tmp-99999", "loss.svg.99999.0.tmp"]) {
    await Deno.writeTextFile(`${charts}/${name}`, "partial");
    await Deno.utime(`${charts}/${name}`, old, old);
  }
  await Deno.writeTextFile(`${charts}/fresh.png.tmp-99998`, "being written now");
  const { buildReport } = await import("../report/mod.ts");
  await buildReport(`${results}/charts`);
  const left: string[] = [];
  for await (const e of Deno.readDir(charts)) if (/tmp/.test(e.name)) left.push(e.name);
  assert.deepEqual(left, ["fresh.png.tmp-99998"], "only a write that may still be running stays");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("environment faults: a results folder that cannot be written is one line and exit 1", async () => {
  const { dir, file } = await experiment(`  name: "ro",
  task: { name: "dummy_linear" },
  train: { epochs: 1 },`);
  const locked = `${dir}/readonly`;
  await Deno.mkdir(locked);
  // Write permission only elsewhere: as refused as a read-only folder, even for root.
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}/elsewhere`,
      "--allow-env",
      "--allow-ffi",
      "--allow-run",
      "--allow-sys",
      "--config",
      CONFIG,
      CLI,
      "exp",
      file,
      "--results",
      locked,
      "--no-report",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr).trim();
  assert.equal(r.code, 1, err);
  assert.equal(err.split("\n").length, 1, err);
  assert.match(err, /^error: .*readonly.*; /);
  await Deno.remove(dir, { recursive: true });
});
