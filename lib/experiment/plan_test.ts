import assert from "node:assert/strict";
import { canonicalJson, expandVariants, runIdOf } from "./plan.ts";
import { RunConfig } from "../contract/config.ts";
import { Experiment } from "./schema.ts";
import { loadExperiment } from "./loader.ts";
import { ExperimentError } from "./validate.ts";

function variants(e: Record<string, unknown>): string[] {
  return expandVariants(Experiment.parse({ name: "x", task: { name: "copy" }, ...e }))
    .map((v) => v.key);
}

Deno.test("plan: axes form a grid, first axis slowest", () => {
  assert.deepEqual(
    variants({ axes: { "model.heads": [1, 2], "model.positional": ["sinusoid", "rope"] } }),
    [
      "model.heads=1,model.positional=sinusoid",
      "model.heads=1,model.positional=rope",
      "model.heads=2,model.positional=sinusoid",
      "model.heads=2,model.positional=rope",
    ],
  );
  assert.deepEqual(variants({}), ["base"]);
});

Deno.test("plan: zipped and paired axes vary together", () => {
  const zipped = variants({
    axes: { "model.dModel": [32, 64], "model.heads": [4, 8], "model.norm": ["pre", "post"] },
    zip: [["model.dModel", "model.heads"]],
  });
  assert.deepEqual(zipped, [
    "model.dModel=32,model.heads=4,model.norm=pre",
    "model.dModel=32,model.heads=4,model.norm=post",
    "model.dModel=64,model.heads=8,model.norm=pre",
    "model.dModel=64,model.heads=8,model.norm=post",
  ]);
  assert.deepEqual(variants({ axes: { "model.dModel,model.heads": [[32, 4], [64, 8]] } }), [
    "model.dModel=32,model.heads=4",
    "model.dModel=64,model.heads=8",
  ]);
});

Deno.test("plan: run ids hash the canonical resolved config; key order does not matter", async () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: "x" } }),
    '{"a":{"c":"x","d":[1,{"e":3,"f":2}]},"b":1}',
  );
  const a = RunConfig.parse({ task: { name: "copy" }, seed: 1 });
  const b = RunConfig.parse({ seed: 1, task: { name: "copy" } });
  const id = await runIdOf(a);
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.equal(id, await runIdOf(b));
  assert.notEqual(id, await runIdOf({ ...a, seed: 2 }));
  // Pinned: a change here changes every results folder name.
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(a))),
  );
  assert.equal(id, Array.from(digest.slice(0, 6), (x) => x.toString(16).padStart(2, "0")).join(""));
});

Deno.test("plan: exclusions, seeds, baseline and defaults in the manifest", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/e.yaml`;
  await Deno.writeTextFile(
    file,
    `name: grid
task: { name: copy }
axes:
  model.positional: [sinusoid, learned]
  model.heads: [2, 4]
exclude:
  - { model.positional: learned, model.heads: 2 }
seeds: 3
baseline: { model.positional: learned }
metrics: { primary: val/exact_match, compare: [loss] }
`,
  );
  const { plan } = await loadExperiment(file, { resultsRoot: `${dir}/r` });
  const m = plan.manifest;
  assert.equal(m.runs.length, 9);
  assert.deepEqual([...new Set(m.runs.map((r) => r.variantKey))], [
    "model.positional=sinusoid,model.heads=2",
    "model.positional=sinusoid,model.heads=4",
    "model.positional=learned,model.heads=4",
  ]);
  assert.deepEqual(m.runs.slice(0, 3).map((r) => r.seed), [0, 1, 2]);
  assert.deepEqual(m.runs.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(m.baseline, "model.positional=learned,model.heads=4");
  assert.deepEqual(m.primary, { metric: "val/exact_match", higherIsBetter: true });
  assert.deepEqual(m.compare, ["test/loss"]);
  assert.deepEqual(m.axes, { "model.positional": ["sinusoid", "learned"], "model.heads": [2, 4] });
  const cfg = plan.runs[8].config;
  assert.equal(cfg.model.heads, 4);
  assert.equal(cfg.model.positional, "learned");
  assert.equal(cfg.seed, 2);
  assert.equal(cfg.task.vocab, 11, "task options are resolved with their defaults");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("heads: 2 }", "heads: 8 }"),
  );
  await assert.rejects(loadExperiment(file), (e: ExperimentError) => {
    assert.match(
      e.lines[0],
      /exclude\[0\]\["model.heads"\]: expected one of the axis values 2, 4 \(got 8\)/,
    );
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});
