import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { translationTask as task } from "./translation.ts";
import { translationExample } from "./examples.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { Seq2SeqBatch } from "./seq2seq.ts";

await selectBackend("wasm");
const dir = await Deno.makeTempDir();
const lines = translationExample(460, 7);
await Deno.writeTextFile(`${dir}/train.tsv`, lines.slice(0, 400).join("\n") + "\n");
await Deno.writeTextFile(`${dir}/val.en`, lines.slice(400).map((l) => l.split("\t")[0]).join("\n"));
await Deno.writeTextFile(`${dir}/val.fr`, lines.slice(400).map((l) => l.split("\t")[1]).join("\n"));

const config = (tokenizer: string) =>
  testConfig({
    task: {
      name: "translation",
      train: { tsv: `${dir}/train.tsv` },
      val: { source: `${dir}/val.en`, target: `${dir}/val.fr` },
      tokenizer,
      bpeMerges: 20,
    },
    model: { layers: 1, dModel: 32, dFF: 64, heads: 4, dropout: 0 },
    train: { batchSize: 32, labelSmoothing: 0.1, lr: { schedule: "noam", factor: 1, warmup: 100 } },
  });

Deno.test("translation: word-level model learns the toy corpus (BLEU rises)", async () => {
  const cfg = config("word");
  const { run } = await createRun(task, cfg);
  const batches = [...run.batches(0)] as Seq2SeqBatch[];
  assert.equal(batches.length, run.stepsPerEpoch);
  assert.equal(batches.reduce((s, b) => s + b.rows, 0), 400);
  // Length buckets: little padding (rows of a batch have similar lengths).
  for (const b of batches) {
    assert.equal(b.src[0], 1); // <s>
    const lens = Array.from({ length: b.rows }, (_, r) => {
      let n = 0;
      for (let i = 0; i < b.srcLen; i++) if (b.src[r * b.srcLen + i] !== 0) n++;
      return n;
    });
    assert.ok(Math.max(...lens) - Math.min(...lens) <= 2, `lengths ${lens}`);
  }
  const before = await run.evaluate("val");
  await trainEpochs(run, cfg, 6);
  const after = await run.evaluate("val");
  assert.ok(after.bleu > 40 && after.bleu > before.bleu, `BLEU ${before.bleu} → ${after.bleu}`);
  assert.deepEqual(await run.evaluate("test"), {}); // no test split declared
  const att = (await run.insights!()).attention as { tokens: string[] };
  assert.equal(att.tokens[0], "<s>");
  assert.equal(att.tokens.at(-1), "</s>");
  run.model.dispose();
});

Deno.test("translation: BPE tokenizer trains and decodes back to words", async () => {
  const cfg = config("bpe");
  const { run } = await createRun(task, cfg);
  await trainEpochs(run, cfg, 1);
  const m = await run.evaluate("val");
  assert.ok(Number.isFinite(m.bleu) && Number.isFinite(m.loss));
  run.model.dispose();
});

Deno.test("translation: bad corpora fail early with the file and line", async () => {
  await Deno.writeTextFile(`${dir}/bad.tsv`, "a b\tc d\nno tab here\n");
  await Deno.writeTextFile(`${dir}/short.fr`, "un\n");
  const attempt = (task_: Record<string, unknown>) =>
    createRun(task, testConfig({ task: { name: "translation", ...task_ } }));
  await assert.rejects(
    attempt({ train: { tsv: `${dir}/bad.tsv` }, val: { tsv: `${dir}/bad.tsv` } }),
    /bad\.tsv: line 2: expected "source<TAB>target", got "no tab here"/,
  );
  await assert.rejects(
    attempt({
      train: { tsv: `${dir}/train.tsv` },
      val: { source: `${dir}/val.en`, target: `${dir}/short.fr` },
    }),
    /short\.fr: lines: has 1 lines but the source .*val\.en has 60/,
  );
  await assert.rejects(
    attempt({ train: { tsv: `${dir}/nope.tsv` }, val: { tsv: `${dir}/train.tsv` } }),
    /nope\.tsv: file: cannot be read/,
  );
  // A missing split is a schema error on task.val.
  assert.equal(task.options.safeParse({ train: { tsv: "x" } }).success, false);
});
