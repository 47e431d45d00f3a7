/**
 * The layering drawn in README.md ("### Layers") holds: no file under lib/
 * imports a folder drawn above its own, nothing under lib/ imports tools/,
 * bench/ or the root entry points, and every library file is used by the
 * library or its entry points, not only by tests.
 *
 * Test files (`*_test.ts`), test-support modules (`*_test_support.ts`) and
 * test data (`testdata/`) follow the same rule, with one allowance: a test
 * may drive the command line (`lib/cli/`) end to end.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";

const ROOT = normalize(new URL("../", import.meta.url).pathname);

/** Folder (under lib/) → rank, highest first in README, read from its "### Layers" block. */
async function readLayers(): Promise<Map<string, number>> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const at = readme.indexOf("### Layers");
  assert.ok(at >= 0, "README.md: no '### Layers' section");
  const block = readme.slice(at).match(/```\n([\s\S]*?)```/);
  assert.ok(block, "README.md: the '### Layers' section has no fenced block");
  const lines = block[1].split("\n").filter((l) => l.startsWith("lib/"));
  const rank = new Map<string, number>();
  lines.forEach((line, i) => {
    const folders = line.match(/^(?:lib\/\w+\/\s*)+/)![0].trim().split(/\s+/);
    for (const f of folders) rank.set(f.slice("lib/".length, -1), lines.length - 1 - i);
  });
  return rank;
}

/** Every .ts file under a folder, relative to the repository root. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/**
 * The relative modules a file imports: static imports and re-exports,
 * `import("…")` with a literal, and `new URL("….ts", import.meta.url)`;
 * comments are dropped first. Paths are relative to the repository root.
 */
function importsOf(file: string, source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs = [
    ...code.matchAll(/\b(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  // A URL of a module is a use of it when it is one of lib/'s (a worker, a lazy import);
  // URLs of other files (cli.ts for a subprocess, fixtures) are not imports.
  const urls = [...code.matchAll(/\bnew URL\(\s*["']([^"']+\.ts)["']\s*,\s*import\.meta\.url/g)]
    .map((m) => normalize(join(dirname(file), m[1]))).filter((p) => p.startsWith("lib/"));
  const paths = specs.filter((s) => s.startsWith("./") || s.startsWith("../"))
    .map((s) => normalize(join(dirname(file), s)));
  return [...new Set([...paths, ...urls])];
}

/** Whether a file is a test, a test-support module or test data. */
function isTestFile(file: string): boolean {
  return /_test(_support)?\.ts$/.test(file) || file.includes("/testdata/");
}

/** The top folder under lib/ of a path (`lib/nn/attention.ts` → `nn`), or undefined. */
function folderOf(path: string): string | undefined {
  const m = path.match(/^lib\/(\w+)\//);
  return m?.[1];
}

/** Every import under lib/ that runs up a layer, as `file → target (why)`. */
function upwardImports(
  graph: Map<string, string[]>,
  rank: Map<string, number>,
): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith("lib/")) continue;
    const from = folderOf(file);
    for (const t of targets) {
      if (!t.endsWith(".ts")) continue; // deno.json, fixtures: data, not layers
      const to = folderOf(t);
      if (to === undefined) {
        if (isTestFile(file)) continue; // a test may use tools/, experiments/ and cli.ts
        bad.push(`${file} → ${t} (outside lib/: tools, bench and entry points use lib, not back)`);
        continue;
      }
      if (to === from) continue;
      if (isTestFile(file) && to === "cli") continue; // end-to-end tests drive the CLI
      if (isTestFile(t) && !isTestFile(file)) {
        bad.push(`${file} → ${t} (the library never imports test support)`);
      }
      const [a, b] = [rank.get(from!), rank.get(to)];
      if (a === undefined) bad.push(`${file}: lib/${from}/ is not drawn in README's layers`);
      else if (b === undefined) {
        bad.push(`${file} → ${t}: lib/${to}/ is not drawn in README's layers`);
      } else if (b >= a) {
        bad.push(`${file} → ${t} (lib/${to}/ is ${b > a ? "above" : "beside"} lib/${from}/)`);
      }
    }
  }
  return bad.sort();
}

/**
 * Library files that only tests import. Entry points count as users: root
 * mod.ts and cli.ts, bench/, tools/, and a file that runs as a script
 * (`import.meta.main`, listed in `scripts`).
 */
function testOnlyFiles(graph: Map<string, string[]>, scripts = new Set<string>()): string[] {
  const users = new Map<string, string[]>();
  for (const [file, targets] of graph) {
    for (const t of targets) users.set(t, [...users.get(t) ?? [], file]);
  }
  const out: string[] = [];
  for (const file of graph.keys()) {
    if (!file.startsWith("lib/") || isTestFile(file) || scripts.has(file)) continue;
    const by = users.get(file) ?? [];
    if (by.length > 0 && by.every(isTestFile)) out.push(`${file} (imported by ${by.join(", ")})`);
  }
  return out.sort();
}

/** lib/ files that run as scripts (`if (import.meta.main)`). */
async function scriptFiles(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of await tsFiles("lib")) {
    if (/\bif \(import\.meta\.main\)/.test(await Deno.readTextFile(join(ROOT, f)))) out.add(f);
  }
  return out;
}

/** The import graph of lib/, tools/, bench/ and the root entry points (this file aside). */
async function importGraph(): Promise<Map<string, string[]>> {
  const files = [
    "mod.ts",
    "cli.ts",
    ...await tsFiles("lib"),
    ...await tsFiles("tools"),
    ...await tsFiles("bench"),
  ];
  const graph = new Map<string, string[]>();
  for (const f of files) {
    if (f === "lib/layering_test.ts") continue; // its own examples below are not imports
    graph.set(f, importsOf(f, await Deno.readTextFile(join(ROOT, f))));
  }
  return graph;
}

Deno.test("layering: no import under lib/ runs up a layer drawn in README.md", async () => {
  const rank = await readLayers();
  for (const f of ["util", "engine", "nn", "contract", "train", "tasks", "experiment", "cli"]) {
    assert.ok(rank.has(f), `README.md's layers do not draw lib/${f}/`);
  }
  assert.ok(rank.get("util")! < rank.get("engine")! && rank.get("engine")! < rank.get("nn")!);
  const graph = await importGraph();
  for (const dir of new Set([...graph.keys()].map(folderOf).filter((f) => f !== undefined))) {
    assert.ok(rank.has(dir!), `lib/${dir}/ is not drawn in README.md's layers`);
  }
  assert.deepEqual(upwardImports(graph, rank), []);
});

Deno.test("layering: lib/engine/ imports none of nn, train, fusion, tasks, experiment", async () => {
  const graph = await importGraph();
  const bad = [...graph].filter(([f]) => f.startsWith("lib/engine/")).flatMap(([f, ts]) =>
    ts.filter((t) => /^lib\/(nn|train|fusion|tasks|experiment|models|contract)\//.test(t))
      .map((t) => `${f} → ${t}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: every library file is used by the library, not only by tests", async () => {
  assert.deepEqual(testOnlyFiles(await importGraph(), await scriptFiles()), []);
});

Deno.test("layering: the checks catch an upward import, test support in the library, a test-only file", () => {
  const rank = new Map([["util", 0], ["engine", 1], ["nn", 2], ["cli", 3]]);
  const src = `// import { x } from "../nn/old.ts";
    /* export * from "../nn/gone.ts"; */
    import { a } from "../nn/attention.ts";
    export { b } from "./backend.ts";
    const m = await import("../util/rng.ts");
    const w = new URL("./worker.ts", import.meta.url);
    const u = new URL("../../cli.ts", import.meta.url);
    import { s } from "../../tools/webgpu/sweep.ts";`;
  const imports = importsOf("lib/engine/x.ts", src);
  assert.deepEqual(imports, [
    "lib/nn/attention.ts",
    "lib/engine/backend.ts",
    "tools/webgpu/sweep.ts",
    "lib/util/rng.ts",
    "lib/engine/worker.ts",
  ]);
  const graph = new Map([
    ["lib/engine/x.ts", imports],
    ["lib/nn/a.ts", ["lib/engine/y_test_support.ts", "lib/util/rng.ts"]],
    ["lib/nn/a_test.ts", ["lib/nn/only_tests.ts", "lib/cli/exp.ts", "tools/slurm/cluster.ts"]],
    ["lib/nn/only_tests.ts", []],
  ]);
  assert.deepEqual(upwardImports(graph, rank), [
    "lib/engine/x.ts → lib/nn/attention.ts (lib/nn/ is above lib/engine/)",
    "lib/engine/x.ts → tools/webgpu/sweep.ts (outside lib/: tools, bench and entry points use lib, not back)",
    "lib/nn/a.ts → lib/engine/y_test_support.ts (the library never imports test support)",
  ]);
  assert.deepEqual(testOnlyFiles(graph), ["lib/nn/only_tests.ts (imported by lib/nn/a_test.ts)"]);
  assert.deepEqual(testOnlyFiles(graph, new Set(["lib/nn/only_tests.ts"])), []);
});
