import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { selectBackend } from "../engine/backend.ts";
import { DataError } from "../data/errors.ts";
import { main } from "../cli/exp.ts";
import {
  chunkOffsets,
  chunkWindows,
  cutText,
  evalBatches,
  fileRoles,
  languageModelTask as task,
  lmEvalLengths,
  lmMetrics,
  readLmTexts,
  readTextFile,
  tokenChars,
  tokenizeCorpus,
  type TokenStream,
} from "./language_model.ts";
import type { DecoderOnlyTransformer } from "../nn/decoder_only.ts";
import { createRun, testConfig, trainEpochs } from "./testing.ts";

await selectBackend("wasm");

const TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n";

/** A folder of `n` small text files (different texts); returns the folder and the paths. */
async function corpusDir(n: number): Promise<{ dir: string; paths: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-" });
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `doc${String(i).padStart(2, "0")}.txt`);
    await Deno.writeTextFile(p, `${i} `.repeat(3) + TEXT.repeat(6 + i));
    paths.push(p);
  }
  return { dir, paths };
}

const model = { layers: 1, dModel: 16, dFF: 32, heads: 2, dropout: 0 };
const train = { batchSize: 8, lr: { schedule: "constant", value: 0.01 } };

Deno.test("language_model: evaluation lengths, chunks and windows", () => {
  const o = (x: Record<string, unknown>) => task.options.parse(x);
  assert.deepEqual(lmEvalLengths(o({ contextLength: 16 })), [16, 32, 64, 128]);
  assert.deepEqual(lmEvalLengths(o({ contextLength: 16, evalLengths: [64, 8] })), [8, 16, 64]);
  // 3 chunks of 8 (+1) tokens in a stream of 30: offsets 0, 10, 21, the last ending at 29.
  assert.deepEqual(chunkOffsets(30, 8, 3), [0, 10, 21]);
  assert.deepEqual(chunkOffsets(8, 8, 3), []);
  assert.deepEqual(chunkWindows(8, 4), [[0, 0], [4, 0]]);
  assert.deepEqual(chunkWindows(8, 3), [[0, 0], [3, 0]]); // ⌊8/3⌋ windows: 6 tokens scored
  assert.deepEqual(chunkWindows(8, 16), []);
  // Sliding, stride 2: windows at 0, 2, 4; the first scores all 4, the others their last 2.
  assert.deepEqual(chunkWindows(8, 4, 2), [[0, 0], [2, 2], [4, 2]]);
  // A stride that does not divide: the last window ends at the chunk's end.
  assert.deepEqual(chunkWindows(9, 4, 3), [[0, 0], [3, 1], [5, 2]]);
  // Sliding windows score every token of the chunk exactly once.
  for (const [c, n, s] of [[64, 16, 5], [64, 8, 8], [50, 16, 1], [17, 4, 3]]) {
    const seen = new Array(c).fill(0);
    for (const [a, from] of chunkWindows(c, n, s)) for (let t = from; t < n; t++) seen[a + t]++;
    assert.deepEqual(seen, new Array(c).fill(1), `chunk ${c}, n ${n}, stride ${s}`);
  }
});

Deno.test("language_model: perplexity is exp(loss); bits per character", () => {
  const m = lmMetrics({ nll: 120, tokens: 60, chars: 90 });
  assert.equal(m.loss, 2);
  assert.ok(Math.abs(m.ppl - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(m.bpc - 120 / 90 / Math.LN2) < 1e-12);
  assert.equal(tokenChars("cat</w>"), 4); // three letters and the word boundary
  assert.equal(tokenChars("ca"), 2);
  assert.equal(tokenChars("é"), 1);
  // BPE: the scored tokens' characters, boundaries included.
  const s: TokenStream = {
    ids: Int32Array.from([5, 6, 7, 8, 9, 5, 6, 7, 8]),
    chars: Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  };
  const { batches, chars } = evalBatches(s, [0], 8, 4);
  assert.equal(batches.length, 1);
  assert.equal(batches[0].rows, 2);
  assert.deepEqual(Array.from(batches[0].targets), [6, 7, 8, 9, 5, 6, 7, 8]);
  assert.equal(chars, 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
  const sw = evalBatches(s, [0], 8, 4, 2);
  assert.equal(sw.chars, chars); // the same tokens, scored once each
  assert.deepEqual(Array.from(sw.batches[0].weights!), [1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
});

Deno.test("language_model: the split of the user's files is fixed and documented", async () => {
  assert.deepEqual(fileRoles(3), ["val", "test", "train"]);
  // 12 files: k = 2, test at ⌊0.5·6⌋ = 3 and ⌊1.5·6⌋ = 9, validation just before.
  assert.deepEqual(
    fileRoles(12).map((r, i) => r === "train" ? "" : `${r}${i}`).filter((x) => x),
    ["val2", "test3", "val8", "test9"],
  );
  assert.deepEqual(cutText("0123456789"), ["01234567", "8", "9"]);
  const { paths } = await corpusDir(12);
  const a = await readLmTexts(task.options.parse({ files: paths }));
  const b = await readLmTexts(task.options.parse({ files: [...paths].reverse() }));
  assert.deepEqual(a, b);
  assert.equal(a.train.length, 8);
  assert.ok(a.test![0].startsWith("3 3 3 "));
  assert.ok(a.val[1].startsWith("8 8 8 "));
  const given = await readLmTexts(
    task.options.parse({ files: { train: paths.slice(0, 2), val: paths[2] } }),
  );
  assert.equal(given.train.length, 2);
  assert.equal(given.test, undefined);
  // Character level: the vocabulary comes from the training split only.
  const c = tokenizeCorpus(
    { train: ["abc", "cab"], val: ["abz"], source: "x" },
    task.options.parse({}),
  );
  assert.equal(c.train.ids.length, 8); // "abc\n\ncab"
  assert.equal(c.vocab.itos[c.val.ids[2]], "<unk>");
});

Deno.test("language_model: a missing or malformed text file is a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-bad-" });
  const check = async (path: string, re: RegExp) => {
    await assert.rejects(
      () => readTextFile(path),
      (e) => e instanceof DataError && e.file === path && re.test(e.message),
    );
  };
  await check(
    join(dir, "missing.txt"),
    /cannot be read.*\n {2}fix: check the path in task\.files/s,
  );
  await Deno.writeFile(join(dir, "bin.txt"), Uint8Array.from([104, 105, 0, 1, 2]));
  await check(join(dir, "bin.txt"), /byte 2: is a NUL byte: this looks like a binary file/);
  await Deno.writeFile(join(dir, "latin1.txt"), Uint8Array.from([99, 97, 102, 0xe9, 10]));
  await check(join(dir, "latin1.txt"), /is not valid UTF-8 text\n {2}fix: convert it to UTF-8/);
  await Deno.writeTextFile(join(dir, "empty.txt"), " \n\n");
  await check(join(dir, "empty.txt"), /file: is empty/);
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

Deno.test("language_model: a primary metric of a family (ppl@<length>) is lower-is-better", async () => {
  const { loadExperiment } = await import("../experiment/validate.ts");
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-exp-" });
  for (const [primary, hib] of [["ppl_ratio@256", false], ["ppl@128", false], ["bpc@64", false]]) {
    const file = join(dir, "e.yaml");
    await Deno.writeTextFile(
      file,
      `name: e\ntask: { name: language_model }\nseeds: 1\nmetrics: { primary: ${primary} }\n`,
    );
    const loaded = await loadExperiment(file);
    assert.equal(loaded.plan.manifest.primary.higherIsBetter, hib, primary as string);
  }
});
