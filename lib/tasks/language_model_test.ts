import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { selectBackend } from "../engine/backend.ts";
import { main } from "../cli/exp.ts";
import { readLmTexts, tokenizeCorpus } from "../data/lm_corpus.ts";
import { languageModelTask as task, lmEvalLengths } from "./language_model.ts";
import { chunkOffsets, evalBatches } from "./lm_eval.ts";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import { corpusDir } from "../data/lm_corpus_test_support.ts";

await selectBackend("wasm");

const model = { layers: 1, dModel: 16, dFF: 32, heads: 2, dropout: 0 };
const train = { batchSize: 8, lr: { schedule: "constant", value: 0.01 } };

Deno.test("language_model: evaluation lengths default to L, 2L, 4L, 8L and include L", () => {
  const o = (x: Record<string, unknown>) => task.options.parse(x);
  assert.deepEqual(lmEvalLengths(o({ contextLength: 16 })), [16, 32, 64, 128]);
  assert.deepEqual(lmEvalLengths(o({ contextLength: 16, evalLengths: [64, 8] })), [8, 16, 64]);
});

Deno.test("language_model: a bad file or too little text fails before training, named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-bad-" });
  // Through the task: the split and file are named.
  await assert.rejects(
    () =>
      createRun(
        task,
        testConfig({
          task: { name: "language_model", files: { train: join(dir, "nope.txt"), val: "x" } },
          model,
        }),
      ),
    /nope\.txt: file \(task\.files train\): cannot be read/,
  );
  // Too little text for the longest evaluation length.
  await Deno.writeTextFile(join(dir, "short.txt"), "abcdefghij".repeat(10));
  await assert.rejects(
    () =>
      createRun(
        task,
        testConfig({
          task: { name: "language_model", files: [join(dir, "short.txt")], contextLength: 8 },
          model,
        }),
      ),
    /val split: has 10 tokens, fewer than the longest evaluation length 64 \+ 1/,
  );
});

/** The loss at length n computed here, window by window, from the model's log-probabilities. */
function referenceLoss(
  m: DecoderOnlyTransformer,
  ids: Int32Array,
  offsets: number[],
  c: number,
  n: number,
) {
  let nll = 0, count = 0;
  for (const o of offsets) {
    for (let s = 0; s + n <= c; s += n) {
      const x = ids.slice(o + s, o + s + n);
      const logp = tf.tidy(() =>
        m.logProbs(tf.tensor2d(x, [1, n], "int32")).arraySync() as number[][][]
      );
      for (let t = 0; t < n; t++) {
        nll -= logp[0][t][ids[o + s + t + 1]];
        count++;
      }
    }
  }
  return nll / count;
}

Deno.test("language_model: trains, and its evaluation matches a window-by-window reference", async () => {
  const { paths } = await corpusDir(5);
  const config = testConfig({
    task: {
      name: "language_model",
      files: paths,
      contextLength: 8,
      evalLengths: [16, 32],
      evalTokens: 64,
      stride: 4,
      batchesPerEpoch: 20,
    },
    model,
    train,
    seed: 2,
  });
  const { run, options } = await createRun(task, config);
  const losses = await trainEpochs(run, config, 3);
  assert.ok(losses[2] < losses[0], `training loss falls: ${losses}`);
  const m = await run.evaluate("val");
  for (const n of [8, 16, 32]) {
    assert.ok(Math.abs(m[`ppl@${n}`] - Math.exp(m[`loss@${n}`])) < 1e-9 * m[`ppl@${n}`]);
    assert.ok(Math.abs(m[`bpc@${n}`] - m[`loss@${n}`] / Math.LN2) < 1e-9); // 1 char per token
    assert.ok(Number.isFinite(m[`ppl_sliding@${n}`]));
  }
  assert.equal(m.loss, m["loss@8"]);
  assert.equal(m.perplexity, m["ppl@8"]);
  assert.ok(Math.abs(m["ppl_ratio@32"] - m["ppl@32"] / m["ppl@8"]) < 1e-12);
  // The same numbers computed independently: K = ⌈64/32⌉ = 2 chunks of 32 tokens.
  const texts = await readLmTexts(options);
  const corpus = tokenizeCorpus(texts, options);
  const offsets = chunkOffsets(corpus.val.ids.length, 32, 2);
  const dm = run.model as DecoderOnlyTransformer;
  for (const n of [8, 16, 32]) {
    const ref = referenceLoss(dm, corpus.val.ids, offsets, 32, n);
    assert.ok(Math.abs(m[`loss@${n}`] - ref) < 1e-5, `loss@${n} ${m[`loss@${n}`]} vs ${ref}`);
  }
  // Deterministic: a second evaluation gives the same numbers.
  assert.deepEqual(await run.evaluate("val"), m);
  const ins = await run.insights!();
  const lg = ins.length_generalization as Record<string, unknown>;
  assert.deepEqual(lg.lengths, [8, 16, 32]);
  assert.equal(lg.tokens, 64);
  assert.match(lg.method as string, /non-overlapping windows.*2 chunks of 32 tokens.*stride 4/);
  assert.deepEqual(lg.notes, []);
  assert.ok(ins.positional && ins.attention);
  run.model.dispose();
});

Deno.test("language_model: a learned table shorter than a length is reported as such", async () => {
  const { paths } = await corpusDir(4);
  const tk = { name: "language_model", files: paths, contextLength: 8, evalTokens: 64 };
  const learned = testConfig({ task: tk, model: { ...model, positional: "learned", maxLen: 8 } });
  const { name: _n, ...rest } = tk;
  const o = task.options.parse(rest);
  assert.deepEqual(task.check!(learned, o), []); // not refused: shown as not representable
  const short = testConfig({ task: tk, model: { ...model, positional: "learned", maxLen: 6 } });
  assert.match(
    task.check!(short, o).map((e) => e.join(": ")).join(),
    /model.maxLen: a learned positional table of 6 positions cannot train at task.contextLength 8/,
  );
  const { run } = await createRun(task, learned);
  const m = await run.evaluate("test");
  assert.ok(Number.isFinite(m["ppl@8"]));
  for (const n of [16, 32, 64]) {
    assert.ok(Number.isNaN(m[`ppl@${n}`]) && Number.isNaN(m[`ppl_ratio@${n}`]), `ppl@${n}`);
  }
  const lg = (await run.insights!()).length_generalization as {
    metrics: { perplexity: (number | null)[] };
    notes: string[];
  };
  assert.deepEqual(lg.metrics.perplexity.slice(1), [null, null, null]);
  assert.deepEqual(lg.notes, [
    "learned table holds 8 positions: no perplexity at 16, 32, 64",
  ]);
  run.model.dispose();
});

Deno.test("language_model: an experiment run writes perplexity per length", async () => {
  const { dir, paths } = await corpusDir(4);
  const file = join(dir, "lm.yaml");
  await Deno.writeTextFile(
    file,
    `name: lm-tiny
backend: wasm
task: { name: language_model, files: ${
      JSON.stringify(paths)
    }, contextLength: 8, evalTokens: 64, batchesPerEpoch: 5 }
model: { layers: 1, dModel: 16, dFF: 32, heads: 2, dropout: 0, maxLen: 8 }
train: { epochs: 1, batchSize: 4, lr: { schedule: constant, value: 0.01 } }
axes:
  model.positional: [alibi, learned]
seeds: 1
metrics: { primary: ppl_ratio@32, higherIsBetter: false }
`,
  );
  const log = console.log;
  console.log = () => {};
  let code: number;
  try {
    code = await main([file, "--plain", "--results", join(dir, "results")]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  const runs = join(dir, "results", "lm-tiny", "runs");
  const found: Record<string, Record<string, number | null>> = {};
  for await (const e of Deno.readDir(runs)) {
    const cfg = JSON.parse(await Deno.readTextFile(join(runs, e.name, "config.json")));
    const st = JSON.parse(await Deno.readTextFile(join(runs, e.name, "status.json")));
    assert.equal(st.state, "done", st.error);
    found[cfg.config.model.positional] = st.final;
    const lines = (await Deno.readTextFile(join(runs, e.name, "metrics.jsonl"))).trim().split("\n");
    assert.ok(lines.some((l) => JSON.parse(l).split === "test" && "ppl@64" in JSON.parse(l)));
    await Deno.stat(join(runs, e.name, "artifacts", "length_generalization.json"));
  }
  assert.ok((found.alibi["test/ppl_ratio@32"] as number) > 0);
  assert.equal(found.learned["test/ppl@32"], null); // NaN in the files: not representable
  const html = await Deno.readTextFile(join(dir, "results", "lm-tiny", "report.html"));
  assert.match(html, /learned table holds 8 positions: no perplexity at 16, 32, 64/);
});

Deno.test("language_model: BPE tokens, bits per character over the characters they spell", async () => {
  const { paths } = await corpusDir(4);
  const tk = { files: paths, tokenizer: "bpe", bpeMerges: 30, contextLength: 4, evalTokens: 32 };
  const config = testConfig({ task: { name: "language_model", ...tk }, model, train, seed: 1 });
  const { run, options } = await createRun(task, config);
  const m = await run.evaluate("val");
  const corpus = tokenizeCorpus(await readLmTexts(options), options);
  assert.ok(corpus.vocab.itos.includes("the</w>"), "a merged word");
  const { batches, chars } = evalBatches(
    corpus.val,
    chunkOffsets(corpus.val.ids.length, 32, 1),
    32,
    4,
  );
  const tokens = batches.reduce((s, b) => s + b.rows * b.len, 0);
  assert.equal(tokens, 32);
  assert.ok(chars > tokens, `${chars} characters for ${tokens} subwords`);
  const nll = m["loss@4"] * tokens;
  assert.ok(Math.abs(m["bpc@4"] - nll / chars / Math.LN2) < 1e-9);
  assert.ok(Math.abs(m.perplexity - Math.exp(m.loss)) < 1e-9 * m.perplexity);
  run.model.dispose();
});
