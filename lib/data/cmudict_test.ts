import assert from "node:assert/strict";
import { ARPABET, loadCmudict, packagedCmudictPath, parseCmudict, stripStress } from "./cmudict.ts";
import { DataError } from "./errors.ts";

const dir = await Deno.makeTempDir({ prefix: "fuselab-cmudict-" });

Deno.test("CMUdict text format: comments, alternates grouped, case", () => {
  const d = parseCmudict(
    ";;; a comment\nCAT  K AE1 T\n\ntomato  T AH0 M EY1 T OW2\nTOMATO(1)  T AH0 M AA1 T OW2 # British\n",
    "t.txt",
  );
  assert.deepEqual(d, [
    { word: "CAT", prons: [["K", "AE1", "T"]] },
    {
      word: "TOMATO",
      prons: [["T", "AH0", "M", "EY1", "T", "OW2"], ["T", "AH0", "M", "AA1", "T", "OW2"]],
    },
  ]);
  assert.equal(stripStress("AH0"), "AH");
  assert.equal(stripStress("K"), "K");
  assert.equal(ARPABET.length, 39);
});

Deno.test("CMUdict JSON format (the package's) parses the same", () => {
  const d = parseCmudict(
    `{"CAT":"K AE1 T","TOMATO":"T AH0 M EY1 T OW2","TOMATO(1)":"T AH0 M AA1 T OW2"}`,
    "t.json",
  );
  assert.equal(d.length, 2);
  assert.equal(d[1].prons.length, 2);
});

Deno.test("malformed dictionaries fail with the file, the line or entry, and the fix", () => {
  const bad = (text: string, re: RegExp) => {
    assert.throws(() => parseCmudict(text, "my.dict"), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, re);
      assert.match(e.message, /fix: /);
      return true;
    });
  };
  bad("CAT  K AE1 T\nDOG\n", /^my\.dict: line 2: "DOG" has a word but no pronunciation/);
  bad(
    "CAT  K AE1 T\nDOG  D QQ1 G\n",
    /^my\.dict: line 2: "DOG" has "QQ1", which is not an ARPAbet phoneme/,
  );
  bad("CAT  K AE7 T\n", /line 1: "CAT" has "AE7"/);
  bad(`{"CAT": 3}`, /^my\.dict: entry "CAT": pronunciation of "CAT" is 3, not a string/);
  bad(`{"CAT": "K AE1 T",}`, /^my\.dict: JSON: not valid JSON/);
  bad(";;; only comments\n", /^my\.dict: entries: no entries/);
});

Deno.test("loadCmudict: the packaged dictionary, a user's file, a missing file", async () => {
  assert.match(packagedCmudictPath(), /datasets-cmudict.*data[\\/]dict\.json$/);
  const all = await loadCmudict();
  assert.ok(all.length > 120_000, `${all.length} words`);
  const cat = all.find((e) => e.word === "CAT");
  assert.deepEqual(cat?.prons, [["K", "AE1", "T"]]);
  await Deno.writeTextFile(`${dir}/mine.dict`, "CAT  K AE1 T\n");
  assert.deepEqual(await loadCmudict(`${dir}/mine.dict`), [{
    word: "CAT",
    prons: [["K", "AE1", "T"]],
  }]);
  await assert.rejects(
    loadCmudict(`${dir}/nope.dict`),
    /nope\.dict: file: not found\n {2}fix: check task\.dict/,
  );
});
