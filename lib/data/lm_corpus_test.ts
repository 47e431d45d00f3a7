import assert from "node:assert/strict";
import { join } from "node:path";
import { DataError } from "./errors.ts";
import {
  cutText,
  fileRoles,
  type LmCorpusOptions,
  readLmTexts,
  readTextFile,
  tokenChars,
  tokenizeCorpus,
} from "./lm_corpus.ts";
import { corpusDir } from "./lm_corpus_test_support.ts";

const char: LmCorpusOptions = { tokenizer: "char", bpeMerges: 0, lowercase: false };

Deno.test("lm_corpus: the split of the user's files is fixed and documented", async () => {
  assert.deepEqual(fileRoles(3), ["val", "test", "train"]);
  // 12 files: k = 2, test at ⌊0.5·6⌋ = 3 and ⌊1.5·6⌋ = 9, validation just before.
  assert.deepEqual(
    fileRoles(12).map((r, i) => r === "train" ? "" : `${r}${i}`).filter((x) => x),
    ["val2", "test3", "val8", "test9"],
  );
  assert.deepEqual(cutText("0123456789"), ["01234567", "8", "9"]);
  const { paths } = await corpusDir(12);
  const a = await readLmTexts({ ...char, files: paths });
  const b = await readLmTexts({ ...char, files: [...paths].reverse() });
  assert.deepEqual(a, b);
  assert.equal(a.train.length, 8);
  assert.ok(a.test![0].startsWith("3 3 3 "));
  assert.ok(a.val[1].startsWith("8 8 8 "));
  const given = await readLmTexts(
    { ...char, files: { train: paths.slice(0, 2), val: paths[2] } },
  );
  assert.equal(given.train.length, 2);
  assert.equal(given.test, undefined);
  // Character level: the vocabulary comes from the training split only.
  const c = tokenizeCorpus(
    { train: ["abc", "cab"], val: ["abz"], source: "x" },
    char,
  );
  assert.equal(c.train.ids.length, 8); // "abc\n\ncab"
  assert.equal(c.vocab.itos[c.val.ids[2]], "<unk>");
});

Deno.test("lm_corpus: a missing or malformed text file is a clear error", async () => {
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
});

Deno.test("lm_corpus: a BPE token counts its characters and the word boundary", () => {
  assert.equal(tokenChars("cat</w>"), 4); // three letters and the word boundary
  assert.equal(tokenChars("ca"), 2);
  assert.equal(tokenChars("é"), 1);
});
