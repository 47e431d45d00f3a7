import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import { loadCmudict } from "../data/cmudict.ts";
import { quietly } from "./experiment_test_support.ts";

Deno.test("g2p end to end: a few steps through the runner write test WER and PER", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-g2p-run-" });
  const dict = (await loadCmudict()).filter((e) => /^[A-Z]{3,5}$/.test(e.word)).slice(0, 300);
  await Deno.writeTextFile(
    `${dir}/small.dict`,
    dict.map((e) => `${e.word}  ${e.prons[0].join(" ")}`).join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/g2p.yaml`,
    `name: g2p-e2e
backend: wasm
task: { name: g2p, dict: ${dir}/small.dict, valFraction: 0.1, testFraction: 0.1 }
model: { layers: 1, dModel: 16, dFF: 32, heads: 2, dropout: 0 }
train: { epochs: 1, maxSteps: 4, batchSize: 32, logEvery: 2 }
seeds: 1
metrics: { primary: wer }
`,
  );
  const code = await quietly(() =>
    main([`${dir}/g2p.yaml`, "--results", `${dir}/results`, "--plain", "--no-report"])
  );
  assert.equal(code, 0);
  const runs = [...Deno.readDirSync(`${dir}/results/g2p-e2e/runs`)];
  assert.equal(runs.length, 1);
  const lines =
    (await Deno.readTextFile(`${dir}/results/g2p-e2e/runs/${runs[0].name}/metrics.jsonl`))
      .trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => `${l.split}@${l.step}`), [
    "train@2",
    "train@4",
    "val@4",
    "test@4",
  ]);
  const test = lines.at(-1);
  assert.ok(test.wer >= 0 && test.wer <= 1, `wer ${test.wer}`);
  assert.ok(test.per >= 0 && Number.isFinite(test.per), `per ${test.per}`);
  const status = JSON.parse(
    await Deno.readTextFile(`${dir}/results/g2p-e2e/runs/${runs[0].name}/status.json`),
  );
  assert.equal(status.state, "done");
  await Deno.remove(dir, { recursive: true });
});
