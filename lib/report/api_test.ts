/**
 * The results API against the report: its figures are the report's charts
 * (same spec, same SVG), its tables hold the report's numbers, and its
 * records hold every run and every metrics line.
 */
import assert from "node:assert/strict";
import * as fl from "./api.ts";
import { renderSpec } from "./charts.ts";
import { loadResults } from "./load.ts";
import { renderReport } from "./report.ts";
import { writeSyntheticExperiment } from "./synthetic.ts";

Deno.test("results API: runs, metrics, configs and statistics of a results folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-api-" });
  await writeSyntheticExperiment(`${dir}/pe`);
  const r = await fl.openResults("pe", dir);
  const data = await loadResults(`${dir}/pe`);
  assert.equal(r.runs.length, data.runs.length);
  assert.deepEqual(r.runs.map((x) => x.run), data.runs.map((x) => x.run.id));
  assert.equal(
    r.metrics.length,
    data.runs.reduce((s, x) => s + x.metrics.reduce((t, l) => t + Object.keys(l).length - 3, 0), 0),
  );
  assert.equal(r.primary, "test/exact_match");
  // a variant's summary: the mean and t-interval of its done runs' final values
  const table = fl.summaryTable(r);
  for (const row of table) {
    const v = r.variants.find((x) => x.label === row.variant)!;
    const values = v.runs.filter((x) => x.status.state === "done")
      .map((x) => x.status.final!["test/exact_match"]);
    assert.deepEqual(row.values, values);
    assert.equal(row.n, values.length);
    assert.ok(Math.abs(row.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-12);
    assert.deepEqual([row.lo, row.hi], [
      fl.stats.summarize(values).lo,
      fl.stats.summarize(values).hi,
    ]);
  }
  const cmp = fl.comparisonTable(r);
  assert.equal(cmp.length, r.variants.length - 1);
  assert.ok(cmp.every((c) => c.baseline === r.variants[0].label && c.sentence.includes(" vs ")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("results API: each figure is the report's chart, drawn from the same spec", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-api-" });
  await writeSyntheticExperiment(`${dir}/pe`);
  const r = await fl.openResults(`${dir}/pe`);
  const { charts } = renderReport(r.data);
  const svg = (id: string) => {
    const c = charts.find((x) => x.id === id);
    assert.ok(c, `the report has chart ${id}`);
    return c.svg;
  };
  const axes = Object.keys(r.manifest.axes);
  const cases: [string, fl.Figure][] = [
    ["curve-train-loss", fl.curvesFigure(r, { split: "train", metric: "loss" })],
    ["curve-val-exact-match", fl.curvesFigure(r, { split: "val" })],
    ["final-primary", fl.finalFigure(r)],
    ["paired", fl.pairedFigure(r)],
    ["effect-model-heads", fl.effectFigure(r, "model.heads")],
    [`heatmap-model-positional-model-heads`, fl.heatmapFigure(r, axes[0], axes[1])],
    ["positional-0", fl.positionalFigure(r)],
    ["similarity-2", fl.similarityFigure(r, r.variants[2].label)],
    ["attention-2", fl.attentionFigure(r, r.variants[2].key)],
    ["gates-3", fl.gatesFigure(r, r.variants[3].label)],
    ["length-exact-match", fl.lengthFigure(r)],
    ["position-token-accuracy", fl.positionFigure(r)],
  ];
  for (const [id, f] of cases) {
    assert.equal(renderSpec(id, f.spec), svg(id), id);
    const shown = (f as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ]();
    assert.match(shown["image/svg+xml"], /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(f.outerHTML, /^<svg /);
  }
  assert.throws(() => fl.gatesFigure(r, "no such"), /no variant "no such"; variants: /);
  await Deno.remove(dir, { recursive: true });
});
