/**
 * The decoder-only length-generalization task end to end: a tiny sweep
 * (NoPE vs ALiBi, one seed) through the CLI, its metrics and artifacts on
 * disk, and the report's length-generalization curves per length and per
 * output position.
 */
import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import type { StatusRecord } from "../contract/results.ts";
import { loadExperiment } from "./loader.ts";
import { quietly } from "./experiment_test_support.ts";

const EXPERIMENT = `
name: tiny_decoder_length
task:
  name: decoder_length_generalization
  operation: reverse
  vocab: 7
  maxTrainLength: 3
  evalLengths: [3, 5]
  batchesPerEpoch: 5
  valSize: 8
  testSize: 8
model: { layers: 1, dModel: 16, dFF: 32, heads: 2, dropout: 0, maxLen: 16 }
train: { epochs: 2, batchSize: 16, evalEvery: 1, checkpointEvery: 1, logEvery: 5 }
axes:
  model.positional: [none, alibi]
seeds: 1
metrics: { primary: token_accuracy_ood, compare: [token_accuracy_beyond] }
`;

Deno.test("decoder_length_generalization: a tiny sweep runs, records curves, and reports them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-decoder-length-" });
  const file = `${dir}/tiny.yaml`;
  await Deno.writeTextFile(file, EXPERIMENT);
  const results = `${dir}/results`;
  const code = await quietly(() => main([file, "--results", results, "--plain"]));
  assert.equal(code, 0);
  const { plan } = await loadExperiment(file, { resultsRoot: results });
  assert.equal(plan.runs.length, 2);
  for (const run of plan.runs) {
    const rdir = `${results}/tiny_decoder_length/runs/${run.id}`;
    const status = JSON.parse(await Deno.readTextFile(`${rdir}/status.json`)) as StatusRecord;
    assert.equal(status.state, "done");
    for (const k of ["token_accuracy_ood", "token_accuracy_beyond", "exact_match@5", "loss@3"]) {
      const v = status.final![`test/${k}`];
      assert.ok(typeof v === "number" && v >= 0 && (k.startsWith("loss") || v <= 1), `${k} = ${v}`);
    }
    const lg = JSON.parse(
      await Deno.readTextFile(`${rdir}/artifacts/length_generalization.json`),
    );
    assert.deepEqual(lg.lengths, [3, 5]);
    assert.equal(lg.split, "test");
    assert.deepEqual(lg.positions, [1, 2, 3, 4, 5]);
    assert.equal(lg.trainLength, 3);
    assert.equal(lg.byPosition.token_accuracy.length, 5);
  }
  const html = await Deno.readTextFile(`${results}/tiny_decoder_length/report.html`);
  assert.match(html, /token_accuracy by output position/);
  assert.match(html, /token_accuracy by evaluation length/);
  assert.match(html, /positions beyond 3 were never produced in training/);
  await Deno.remove(dir, { recursive: true });
});
