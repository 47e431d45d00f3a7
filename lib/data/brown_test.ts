import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BROWN_GENRES,
  brownPlainText,
  parseBrownCategories,
  parseBrownText,
  readBrown,
  splitBrown,
} from "./brown.ts";
import { DataError } from "./errors.ts";

Deno.test("readBrown: the installed corpus has 500 texts, 15 genres and ~1.16 M tokens", async () => {
  const texts = await readBrown();
  assert.equal(texts.length, 500);
  assert.deepEqual([...new Set(texts.map((t) => t.genre))].sort(), [...BROWN_GENRES]);
  let tokens = 0;
  for (const t of texts) for (const s of t.sentences) tokens += s.length;
  assert.equal(tokens, 1161192); // every whitespace-separated token of the 500 files
  const ca01 = texts.find((t) => t.id === "ca01")!;
  assert.equal(ca01.genre, "news");
  assert.deepEqual(ca01.sentences[0].slice(0, 3), [
    { word: "The", tag: "at" },
    { word: "Fulton", tag: "np-tl" },
    { word: "County", tag: "nn-tl" },
  ]);
  assert.ok(brownPlainText(ca01).startsWith("The Fulton County Grand Jury said Friday"));
});

Deno.test("splitBrown: by text, every genre in every split, the same every time", async () => {
  const texts = await readBrown();
  const a = splitBrown(texts), b = splitBrown([...texts].reverse());
  const ids = (ts: { id: string }[]) => ts.map((t) => t.id);
  assert.deepEqual(ids(a.test), ids(b.test));
  assert.deepEqual(ids(a.val), ids(b.val));
  assert.equal(a.train.length + a.val.length + a.test.length, 500);
  assert.equal(new Set([...ids(a.train), ...ids(a.val), ...ids(a.test)]).size, 500);
  for (const part of [a.train, a.val, a.test]) {
    assert.deepEqual([...new Set(part.map((t) => t.genre))].sort(), [...BROWN_GENRES]);
  }
  // news: 44 texts, k = 5 → test at positions 4, 13, 22, 30, 39 (ca05, ca14, ca23, ca31, ca40).
  assert.deepEqual(ids(a.test.filter((t) => t.genre === "news")), [
    "ca05",
    "ca14",
    "ca23",
    "ca31",
    "ca40",
  ]);
  assert.equal(a.test.length, 54);
  assert.equal(a.val.length, 54);
});

Deno.test("Brown parser: malformed files name the file, the line and the fix", async () => {
  assert.throws(
    () => parseBrownText("\tThe/at dog/nn\n\tbad token/nn\n", "cz01"),
    (e) =>
      e instanceof DataError &&
      /cz01: line 2, token 1: expected "word\/tag", got "bad"/.test(e.message),
  );
  assert.throws(() => parseBrownText("\n\n", "cz02"), /cz02: file: has no sentences/);
  assert.throws(
    () => parseBrownCategories("ca01 news\nca01 news\n", "cats.txt"),
    /cats.txt: line 2: text ca01 is listed twice/,
  );
  assert.throws(
    () => parseBrownCategories("ca01\n", "cats.txt"),
    /cats.txt: line 1: expected "<text id> <genre>"/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "cats.txt"), "ca01 news\n");
    await assert.rejects(
      () => readBrown(dir),
      (e) =>
        e instanceof DataError && e.file === join(dir, "ca01") && /cannot be read/.test(e.message),
    );
    await assert.rejects(() => readBrown(join(dir, "nope")), /cats.txt: file: cannot be read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
