import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../engine/backend.ts";
import { readBrown } from "../data/brown.ts";
import { DataError } from "../data/errors.ts";
import { STYLE_FEATURES } from "../data/brown_views.ts";
import { brownClasses, brownGenrePassages, brownGenreTask as task } from "./brown_genre.ts";
import { createRun, testConfig, trainEpochs } from "./task_test_support.ts";

await selectBackend("wasm");

Deno.test("brown_genre: passages of a text stay in its split; the same every time", async () => {
  const texts = await readBrown();
  const o = task.options.parse({});
  const a = brownGenrePassages(texts, o);
  const b = brownGenrePassages([...texts].reverse(), o);
  const ids = (ps: { textId: string; index: number }[]) => ps.map((p) => `${p.textId}#${p.index}`);
  for (const k of ["train", "val", "test"] as const) assert.deepEqual(ids(a[k]), ids(b[k]));
  const owner = new Map<string, string>();
  for (const k of ["train", "val", "test"] as const) {
    for (const p of a[k]) {
      assert.equal(
        owner.get(p.textId) ?? k,
        k,
        `${p.textId} is in ${owner.get(p.textId)} and ${k}`,
      );
      owner.set(p.textId, k);
    }
  }
  assert.equal(owner.size, 500);
  assert.ok(a.train.length > 4000 && a.val.length > 500 && a.test.length > 500);
  const sub = brownGenrePassages(texts, task.options.parse({ maxTrainPassages: 100 }));
  assert.equal(sub.train.length, 100);
  assert.deepEqual(ids(sub.val), ids(a.val));
});

/** A corpus folder: `genres` × 3 texts of 6 sentences, words and tags that differ by genre. */
async function tinyCorpus(genres: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "brown_genre_test_" });
  const cats: string[] = [];
  for (const [g, genre] of genres.entries()) {
    for (let t = 0; t < 3; t++) {
      const id = `c${String.fromCharCode(97 + g)}0${t + 1}`;
      cats.push(`${id} ${genre}`);
      const lines = Array.from(
        { length: 6 },
        (_, s) => `\t${genre}/nn-tl word${s}/${g ? "vbd" : "jj"} is/bez here/rb ,/, really/rb ./.`,
      );
      await Deno.writeTextFile(join(dir, id), lines.join("\n\n") + "\n");
    }
  }
  await Deno.writeTextFile(join(dir, "cats.txt"), cats.join("\n") + "\n");
  return dir;
}

Deno.test("brown_genre: a tiny run trains, evaluates and records gates per genre", async () => {
  const dir = await tinyCorpus(["news", "fiction"]);
  try {
    const cfg = testConfig({
      task: { name: "brown_genre", dir, passageTokens: 14, labels: "coarse", vocab: 20 },
      model: { fusion: "gmu", fusionDim: 8, dropout: 0 },
      train: { batchSize: 4, lr: { schedule: "constant", value: 0.01 } },
      seed: 0,
    });
    const { run } = await createRun(task, cfg);
    // 3 passages of 2 sentences per text; 1 training text per genre → 6 training passages
    assert.equal(run.stepsPerEpoch, 2);
    const losses = await trainEpochs(run, cfg, 15);
    assert.ok(losses[14] < losses[0], `losses ${losses}`);
    const m = await run.evaluate("test");
    assert.equal(m.accuracy, 1);
    const gates = (await run.insights!()).gates as {
      modalities: string[];
      values: number[][];
      groups: { name: string; names: string[]; of: number[] };
    };
    assert.deepEqual(gates.modalities, ["words", "tags", "style"]);
    assert.equal(gates.values.length, 6);
    assert.equal(gates.groups.name, "genre");
    assert.deepEqual(gates.groups.of.map((k) => gates.groups.names[k]).sort(), [
      ...Array(3).fill("fiction"),
      ...Array(3).fill("news"),
    ]);
    run.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("brown_genre: options and their errors", async () => {
  assert.deepEqual(brownClasses(task.options.parse({ labels: "coarse" })), [
    "informative",
    "imaginative",
  ]);
  assert.deepEqual(brownClasses(task.options.parse({ genres: ["romance", "news"] })), [
    "news",
    "romance",
  ]);
  assert.equal(brownClasses(task.options.parse({})).length, 15);
  assert.throws(() => task.options.parse({ views: ["words", "pictures"] }));
  assert.throws(() => task.options.parse({ genres: ["news", "poetry"] }));
  const check = (t: Record<string, unknown>, fusion = "gmu") => {
    const cfg = testConfig({ task: { name: "brown_genre", ...t }, model: { fusion } });
    const { name: _n, ...rest } = cfg.task;
    return task.check!(cfg, task.options.parse(rest)).map(([p, msg]) => `${p}: ${msg}`);
  };
  assert.deepEqual(check({}), []);
  assert.match(check({ views: ["words", "words"] })[0], /task.views: view "words" is listed twice/);
  assert.match(check({ views: ["style"] })[0], /GMU fusion needs at least 2 views/);
  assert.deepEqual(check({ views: ["style"] }, "concat"), []);
  assert.match(
    check({ labels: "coarse", genres: ["news", "learned"] })[0],
    /task.genres: with labels: coarse, keep at least one informative and one imaginative/,
  );
  // a folder without the corpus: an error naming the file and the fix
  const empty = await Deno.makeTempDir();
  try {
    const cfg = testConfig({ task: { name: "brown_genre", dir: empty } });
    await assert.rejects(
      () => createRun(task, cfg),
      (e: unknown) =>
        e instanceof DataError && e.message.includes(join(empty, "cats.txt")) &&
        /cannot be read/.test(e.message),
    );
  } finally {
    await Deno.remove(empty);
  }
  assert.equal(STYLE_FEATURES.length, 32);
});
