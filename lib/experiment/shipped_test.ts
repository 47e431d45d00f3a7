import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import { exists } from "../util/atomic.ts";
import { experimentJsonSchema, SCHEMA_PATH } from "./json_schema.ts";

const ROOT = new URL("../../experiments/", import.meta.url).pathname;
/** The MM-IMDb example `experiments/tasks/make_data.ts` writes (not committed). */
const MMIMDB_DATA = "experiments/tasks/data/mmimdb_example.hdf5";

/** Every shipped experiment file: top-level .ts, and .yaml/.yml/.json anywhere but data folders. */
async function shippedFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, top: boolean) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}${e.name}`;
      if (e.name.startsWith("_") || e.name.startsWith(".")) continue;
      if (e.isDirectory) {
        if (e.name !== "data") await walk(`${p}/`, false);
      } else if (/\.(ya?ml|json)$/.test(e.name) && e.name !== "schema.json") out.push(p);
      else if (top && /\.ts$/.test(e.name) && !e.name.endsWith("_test.ts")) out.push(p);
    }
  };
  await walk(ROOT, true);
  return out.sort();
}

Deno.test("shipped experiments: each validates and --dry-run prints its plan", async () => {
  const files = await shippedFiles();
  for (const name of ["quickstart.ts", "positional.yaml", "positional_length.yaml", "heads.ts"]) {
    assert.ok(files.includes(ROOT + name), `experiments/${name} is shipped`);
  }
  for (const file of files) {
    const out: string[] = [], err: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (...a: unknown[]) => out.push(a.join(" "));
    console.error = (...a: unknown[]) => err.push(a.join(" "));
    let code: number;
    try {
      code = await main([file, "--dry-run", "--results", "/nonexistent/fuselab-results"]);
    } finally {
      [console.log, console.error] = [log, error];
    }
    if (file.endsWith("tasks/mmimdb.yaml") && !(await exists(MMIMDB_DATA))) {
      // Its example data is generated, not committed: without it, validation says so.
      assert.equal(code, 2);
      assert.match(
        err[0],
        /task\.path: the data file .*mmimdb_example\.hdf5: file: does not exist/,
      );
      continue;
    }
    assert.equal(code, 0, `${file}:\n${err.join("\n")}`);
    const text = out.join("\n");
    const m = text.match(/^\S+: (\d+) runs? \(/);
    assert.ok(m, `${file}: no plan header in\n${text}`);
    const rows = text.split("\n").filter((l) => /^\d+\s+[0-9a-f]{12}\s/.test(l));
    assert.equal(rows.length, Number(m[1]), `${file}: one row per run`);
  }
});

Deno.test("shipped experiments: the quick start is the copy task, sinusoid vs learned, 2 seeds", async () => {
  const { loadExperiment } = await import("./loader.ts");
  const { plan } = await loadExperiment(`${ROOT}quickstart.ts`);
  assert.deepEqual(plan.manifest.axes, { "model.positional": ["sinusoid", "learned"] });
  assert.deepEqual(plan.manifest.seeds, [0, 1]);
  assert.equal(plan.runs[0].config.task.name, "copy");
  assert.equal(plan.runs[0].config.task.vocab, 11);
  assert.equal(plan.runs[0].config.task.length, 10);
});

Deno.test("experiments/schema.json is generated from the current schema", async () => {
  const fix = "run `deno run --allow-read --allow-write lib/experiment/json_schema.ts`";
  const current = JSON.parse(await Deno.readTextFile(SCHEMA_PATH));
  const fresh = JSON.parse(await experimentJsonSchema());
  // Task options change with the tasks; the experiment schema itself must match exactly,
  // and every task must be listed.
  const names = (s: { properties: { task: { oneOf?: { properties: { name: unknown } }[] } } }) =>
    (s.properties.task.oneOf ?? []).map((t) => t.properties.name).sort();
  assert.deepEqual(names(current), names(fresh), `the tasks in schema.json are stale: ${fix}`);
  delete current.properties.task;
  delete fresh.properties.task;
  assert.deepEqual(current, fresh, `experiments/schema.json is stale: ${fix}`);
});

// Run ids are hashes of resolved configs; a refactor that changes one orphans every result
// computed under it. The fixture was computed on the code before the layering redesign.
const RUN_IDS = new URL("../../tests/fixtures/run_ids.json", import.meta.url).pathname;
const UPDATE = "FUSELAB_PIN_RUN_IDS";

/** Each shipped experiment file (relative to the repository) → its run ids in plan order. */
async function shippedRunIds(): Promise<Record<string, string[]>> {
  const { loadExperiment } = await import("./loader.ts");
  const out: Record<string, string[]> = {};
  for (const file of await shippedFiles()) {
    // Run ids do not depend on data, and the MM-IMDb example is generated, not committed.
    const { plan } = await loadExperiment(file, {
      resultsRoot: "/nonexistent/fuselab-results",
      checkData: false,
    });
    out[file.slice(ROOT.length - "experiments/".length)] = plan.runs.map((r) => r.id);
  }
  return out;
}

Deno.test("shipped experiments: run ids are those pinned in tests/fixtures/run_ids.json", async () => {
  const ids = await shippedRunIds();
  let pinned: Record<string, string[]> = {};
  try {
    pinned = JSON.parse(await Deno.readTextFile(RUN_IDS));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const missing = Object.keys(ids).filter((f) => !(f in pinned));
  if (missing.length && Deno.env.get(UPDATE) === "1") {
    // Adds new experiments only: an id already pinned is never rewritten.
    for (const f of missing) pinned[f] = ids[f];
    const sorted = Object.fromEntries(Object.entries(pinned).sort(([a], [b]) => a < b ? -1 : 1));
    await Deno.writeTextFile(RUN_IDS, JSON.stringify(sorted, null, 2) + "\n");
  } else {
    assert.deepEqual(
      missing,
      [],
      `${RUN_IDS}: no pinned run ids for ${missing.join(", ")}; pin them with ` +
        `${UPDATE}=1 deno task test lib/experiment/shipped_test.ts`,
    );
  }
  for (const [file, want] of Object.entries(pinned)) {
    if (!(file in ids)) continue; // a removed experiment has no runs to orphan
    assert.deepEqual(ids[file], want, `${file}: run ids changed (${RUN_IDS})`);
  }
});
