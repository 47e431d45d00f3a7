import assert from "node:assert/strict";
import { selectBackend } from "../engine/backend.ts";
import { loadCmudict, type Pronunciations } from "../data/cmudict.ts";
import { g2pTask as task, splitCmudict, splitOf, wordHash } from "./g2p.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";
import type { Seq2SeqBatch } from "./seq2seq.ts";

await selectBackend("wasm");
const dict = await loadCmudict();
const SPLIT = { stress: "strip", valFraction: 0.02, testFraction: 0.1 } as const;

const words = (s: Pronunciations[]) => s.map((e) => e.word);

Deno.test("g2p split: deterministic, by word, independent of the dictionary's order", () => {
  const a = splitCmudict(dict, SPLIT);
  const b = splitCmudict([...dict].reverse(), SPLIT);
  for (const s of ["train", "val", "test"] as const) assert.deepEqual(words(a[s]), words(b[s]));
  // The packaged dictionary's split, pinned: a change here changes every reported number.
  assert.deepEqual(
    [a.train.length, a.val.length, a.test.length, a.dropped],
    [108795, 2428, 12651, 1131],
  );
  assert.deepEqual(words(a.test).slice(0, 3), ["VERSER", "CARRERA", "ACQUITAINE"]);
  // Each word once, in one split, with all its pronunciations (alternates never straddle).
  const seen = new Map<string, string>();
  for (const s of ["train", "val", "test"] as const) {
    for (const e of a[s]) {
      assert.ok(!seen.has(e.word), `${e.word} in ${seen.get(e.word)} and ${s}`);
      seen.set(e.word, s);
      assert.equal(splitOf(e.word, 0.02, 0.1), s);
    }
  }
  const tomato = [...a.train, ...a.val, ...a.test].find((e) => e.word === "TOMATO")!;
  assert.deepEqual(tomato.prons.map((p) => p.join(" ")), ["T AH M EY T OW", "T AH M AA T OW"]);
  // Non-alphabetic entries are dropped; apostrophes are kept.
  for (const w of ["A42128", "AIR-CONDITIONING", "A.", "AIR_FORCE"]) assert.ok(!seen.has(w), w);
  assert.ok(seen.has("A'S"));
  // Hash positions are uniform enough: each split's share within 0.3 points of its fraction.
  const n = seen.size;
  assert.ok(Math.abs(a.test.length / n - 0.1) < 0.003, `${a.test.length / n}`);
  assert.ok(Math.abs(a.val.length / n - 0.02) < 0.003, `${a.val.length / n}`);
  assert.equal(wordHash("CAT"), wordHash("CAT"));
  assert.notEqual(wordHash("CAT"), wordHash("TAC"));
});

Deno.test("g2p split: stress kept or stripped; pronunciations equal after stripping merge", () => {
  const entries: Pronunciations[] = [
    { word: "RECORD", prons: [["R", "EH1", "K", "ER0", "D"], ["R", "EH0", "K", "ER1", "D"]] },
  ];
  const strip = splitCmudict(entries, { ...SPLIT, valFraction: 0, testFraction: 0.01 });
  const keep = splitCmudict(entries, {
    ...SPLIT,
    stress: "keep",
    valFraction: 0,
    testFraction: 0.01,
  });
  const one = (d: typeof strip) => [...d.train, ...d.val, ...d.test][0].prons;
  assert.deepEqual(one(strip), [["R", "EH", "K", "ER", "D"]]);
  assert.equal(one(keep).length, 2);
});

/** A small CMUdict text file: `n` words of the packaged dictionary, every split represented. */
async function smallDict(n: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-g2p-" });
  const lines = dict.filter((e) => /^[A-Z]{3,6}$/.test(e.word)).slice(0, n)
    .flatMap((e) => e.prons.map((p, i) => `${e.word}${i ? `(${i})` : ""}  ${p.join(" ")}`));
  await Deno.writeTextFile(`${dir}/small.dict`, lines.join("\n") + "\n");
  return `${dir}/small.dict`;
}

Deno.test("g2p task: trains on a small dictionary, WER/PER fall, beam reports greedy beside", async () => {
  const file = await smallDict(600);
  const cfg = testConfig({
    task: { name: "g2p", dict: file, valFraction: 0.1, testFraction: 0.1, beam: 2 },
    model: { layers: 1, dModel: 32, dFF: 64, heads: 4, dropout: 0 },
    train: { batchSize: 32, labelSmoothing: 0.1, lr: { schedule: "noam", factor: 2, warmup: 50 } },
  });
  const { run } = await createRun(task, cfg);
  const batches = [...run.batches(0)] as Seq2SeqBatch[];
  assert.equal(batches.length, run.stepsPerEpoch);
  assert.deepEqual(
    batches.map((b) => b.src.join()),
    ([...run.batches(0)] as Seq2SeqBatch[]).map((b) => b.src.join()),
    "the same epoch gives the same batches",
  );
  const before = await run.evaluate("val");
  assert.equal(before.wer, 1);
  await trainEpochs(run, cfg, 6);
  const after = await run.evaluate("val");
  assert.ok(after.per < before.per - 0.2, `PER ${before.per} → ${after.per}`);
  const test = await run.evaluate("test");
  for (const k of ["wer", "per", "loss", "wer_greedy", "per_greedy"]) {
    assert.ok(Number.isFinite(test[k]) && test[k] >= 0, `${k} ${test[k]}`);
  }
  assert.ok(test.wer <= 1 && test.per < 1);
  run.model.dispose();
});

Deno.test("g2p task: a bad dictionary fails before training, naming file, line and fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-g2p-" });
  await Deno.writeTextFile(`${dir}/bad.dict`, "CAT  K AE1 T\nDOG  D AO1 G G7\n");
  const attempt = (dictFile: string) =>
    createRun(task, testConfig({ task: { name: "g2p", dict: dictFile } }));
  await assert.rejects(attempt(`${dir}/bad.dict`), /bad\.dict: line 2: "DOG" has "G7"[^]*fix: /);
  await assert.rejects(attempt(`${dir}/missing.dict`), /missing\.dict: file: not found/);
  await Deno.writeTextFile(`${dir}/digits.dict`, "A42  EY1\n");
  await assert.rejects(attempt(`${dir}/digits.dict`), /digits\.dict: words: no training words/);
  // A learned table too short for the longest evaluated word (the check covers training words).
  const long = [..."BCDFGHJKLM"].map((c) => `${c}ONGWORDSXY  L AO1 NG`);
  const short = [..."BCDFGHJKLM"].map((c) => `${c}AT  K AE1 T`);
  await Deno.writeTextFile(`${dir}/long.dict`, [...long, ...short].join("\n") + "\n");
  await assert.rejects(
    createRun(
      task,
      testConfig({
        task: { name: "g2p", dict: `${dir}/long.dict`, maxLetters: 4, testFraction: 0.5 },
        model: { positional: "learned", maxLen: 16 },
      }),
    ),
    /long\.dict: words: the longest validation\/test word has 11 letters: decoding it takes 22 positions, more than the learned table's model\.maxLen 16\n {2}fix: raise model\.maxLen to at least 22/,
  );
  assert.equal(task.options.safeParse({ beam: 0 }).success, false);
  assert.equal(task.options.safeParse({ stress: "some" }).success, false);
});
