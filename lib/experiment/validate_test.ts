import assert from "node:assert/strict";
import { main } from "../cli/exp.ts";
import { loadExperiment } from "./loader.ts";
import { ExperimentError } from "./validate.ts";
import { dummyExperimentText } from "./experiment_test_support.ts";

/** Writes `text` as an experiment file and returns the validation messages (none when valid). */
async function mistakes(text: string, ext = "yaml"): Promise<{ file: string; lines: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-validate-" });
  const file = `${dir}/exp.${ext}`;
  await Deno.writeTextFile(file, text);
  try {
    await loadExperiment(file, { resultsRoot: `${dir}/results` });
    return { file, lines: [] };
  } catch (e) {
    if (e instanceof ExperimentError) return { file, lines: e.lines };
    throw e;
  }
}

const cases: { what: string; text: string; ext?: string; expect: (f: string) => string[] }[] = [
  {
    what: "unknown top-level key, with did you mean",
    text: "name: a\ntask: { name: copy }\naxis:\n  model.heads: [1, 2]\n",
    expect: (f) => [`${f}:3:1 axis: unknown key; did you mean "axes"? (got {"model.heads":[1,2]})`],
  },
  {
    what: "unknown nested key",
    text: "name: a\ntask: { name: copy }\nmodel:\n  dmodel: 64\n",
    expect: (f) => [`${f}:4:3 model.dmodel: unknown key; did you mean "dModel"? (got 64)`],
  },
  {
    what: "wrong type",
    text: "name: a\ntask: { name: copy }\ntrain:\n  epochs: ten\n",
    expect: (f) => [`${f}:4:11 train.epochs: expected an integer (got "ten")`],
  },
  {
    what: "value not in an enum",
    text: "name: a\ntask: { name: copy }\nmodel: { positional: rop }\n",
    expect: (f) => [
      `${f}:3:22 model.positional: expected one of "sinusoid", "learned", "none", "rope", ` +
      `"alibi"; did you mean "rope"? (got "rop")`,
    ],
  },
  {
    what: "number out of range",
    text: "name: a\ntask: { name: copy }\nmodel:\n  dropout: 1.5\n",
    expect: (f) => [`${f}:4:12 model.dropout: expected a number <= 1 (got 1.5)`],
  },
  {
    what: "missing required key",
    text: "name: a\ntask: { vocab: 11 }\n",
    expect: (f) => [`${f}:2:7 task.name: required: expected a string (got nothing)`],
  },
  {
    what: "unknown task",
    text: "name: a\ntask:\n  name: cpy\n",
    expect: (f) => [`${f}:3:9 task.name: unknown task; did you mean "copy"? (got "cpy")`],
  },
  {
    what: "unknown axis path",
    text: "name: a\ntask: { name: copy }\naxes:\n  model.head: [1, 2]\n",
    expect: (f) => [
      `${f}:4:3 axes["model.head"]: unknown config path; did you mean "model.heads"? ` +
      `(got "model.head")`,
    ],
  },
  {
    what: "heads not dividing d_model, at the axis value",
    text: "name: a\ntask: { name: copy }\nmodel: { dModel: 32 }\naxes:\n  model.heads: [4, 3]\n",
    expect: (f) => [
      `${f}:5:20 model.heads: expected a divisor of model.dModel = 32 ` +
      `(heads split d_model evenly) (got 3)`,
    ],
  },
  {
    what: "learned table shorter than the evaluation length (the task's check)",
    ext: "ts",
    text: dummyExperimentText(`  name: "a",
  task: { name: "dummy_linear", evalLength: 20 },
  model: { positional: "learned", maxLen: 16 },`),
    expect: (f) => [
      `${f}:7:43 model.maxLen: expected at least the evaluation length 20 ` +
      `for a learned table (got 16)`,
    ],
  },
  {
    what: "more modalities than the task has (the task's option schema, per variant)",
    text: "name: a\ntask: { name: gmu_synthetic }\naxes:\n  task.modalities: [2, 3, 4]\n",
    expect: (f) => [`${f}:4:27 task.modalities: expected 2 or 3 (got 4)`],
  },
  {
    what: "zipped axes of unequal lengths",
    text: "name: a\ntask: { name: copy }\naxes:\n  model.dModel: [32, 64]\n" +
      "  model.heads: [2, 4, 8]\nzip:\n  - [model.dModel, model.heads]\n",
    expect: (f) => [
      `${f}:7:5 zip[0]: zipped axes need equal numbers of values (model.dModel has 2, ` +
      `model.heads has 3) (got ["model.dModel","model.heads"])`,
    ],
  },
  {
    what: "exclusion naming a value the axis does not have",
    text: "name: a\ntask: { name: copy }\naxes:\n  model.positional: [sinusoid, learned]\n" +
      "exclude:\n  - { model.positional: rope }\n",
    expect: (f) => [
      `${f}:6:25 exclude[0]["model.positional"]: expected one of the axis values "sinusoid", ` +
      `"learned" (got "rope")`,
    ],
  },
  {
    what: "unknown primary metric",
    text: "name: a\ntask: { name: copy }\nmetrics:\n  primary: exact_mach\n",
    expect: (f) => [
      `${f}:4:12 metrics.primary: unknown metric of task copy; did you mean "exact_match"? ` +
      `(got "exact_mach")`,
    ],
  },
  {
    what: "a paired axis value of the wrong arity",
    text: "name: a\ntask: { name: copy }\naxes:\n  model.dModel,model.heads: [[32, 4], [64]]\n",
    expect: (f) => [
      `${f}:4:39 axes["model.dModel,model.heads"][1]: expected a list of 2 values, one for ` +
      `each of model.dModel, model.heads (got [64])`,
    ],
  },
  {
    what: "unknown learning-rate schedule",
    text: "name: a\ntask: { name: copy }\ntrain:\n  lr: { schedule: cosine }\n",
    expect: (f) => [
      `${f}:4:19 train.lr.schedule: expected one of "noam", "constant" (got "cosine")`,
    ],
  },
  {
    what: "YAML syntax error",
    text: "name: a\ntask: { name: copy\n",
    expect: (
      f,
    ) => [
      `${f}:3:1 YAML syntax: Flow map in block collection must be sufficiently indented and end with a }`,
    ],
  },
  {
    what: "the seed is not an axis",
    text: "name: a\ntask: { name: copy }\naxes:\n  seed: [1, 2]\n",
    expect: (
      f,
    ) => [`${f}:4:3 axes.seed: the seed is not an axis: list seeds in \`seeds\` (got "seed")`],
  },
];

for (const c of cases.filter((c) => c.expect("").length)) {
  Deno.test(`validation: ${c.what}`, async () => {
    const { file, lines } = await mistakes(c.text, c.ext);
    assert.deepEqual(lines, c.expect(file));
  });
}

Deno.test("validation: every mistake of a file is reported at once, in file order", async () => {
  const { file, lines } = await mistakes(
    "name: bad name\ntask: { name: copy }\nmodel:\n  heads: 0\n  dmodel: 8\n" +
      "train: { epochs: 0 }\nbackend: gpu\naxes:\n  model.positionl: [learned]\n",
  );
  assert.deepEqual(lines.map((l) => l.slice(file.length + 1).split(" ")[0]), [
    "1:7",
    "4:10",
    "5:3",
    "6:18",
    "7:10",
    "9:3",
  ]);
});

Deno.test("validation: a TypeScript experiment points at the key in the source", async () => {
  const { file, lines } = await mistakes(
    dummyExperimentText(`  name: "a",
  task: { name: "dummy_linear" },
  model: { heads: 3, dModel: 8 },`),
    "ts",
  );
  assert.deepEqual(lines, [
    `${file}:7:19 model.heads: expected a divisor of model.dModel = 8 (heads split d_model ` +
    `evenly) (got 3)`,
  ]);
});

Deno.test("validation: a task's option schema and check() are applied per variant", async () => {
  const { file, lines } = await mistakes(
    dummyExperimentText(`  name: "a",
  task: { name: "dummy_linear", dims: 3 },
  axes: { "model.positional": ["sinusoid", "learned"], "model.maxLen": [4, 64] },`),
    "ts",
  );
  // Both at once: the option mistake does not hide the check() of the variants.
  assert.deepEqual(lines, [
    `${file}:6:33 task.dims: unknown key; did you mean "dim"? (got 3)`,
    `${file}:7:73 model.maxLen: expected at least the evaluation length 8 for a learned table (got 4)`,
  ]);
  const second = await mistakes(
    dummyExperimentText(`  name: "a",
  task: { name: "dummy_linear" },
  axes: { "model.positional": ["sinusoid", "learned"], "model.maxLen": [4, 64] },`),
    "ts",
  );
  assert.deepEqual(second.lines, [
    `${second.file}:7:73 model.maxLen: expected at least the evaluation length 8 for a ` +
    `learned table (got 4)`,
  ]);
});

Deno.test("validation: a bad file exits 2, prints every mistake, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-validate-" });
  const file = `${dir}/bad.yaml`;
  await Deno.writeTextFile(
    file,
    "name: bad\ntask: { name: copy }\nmodel: { dModel: 30 }\naxes:\n  model.heads: [1, 4]\n",
  );
  const errors: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  let code: number;
  try {
    code = await main([file, "--results", `${dir}/results`]);
  } finally {
    console.error = original;
  }
  assert.equal(code, 2);
  assert.deepEqual(errors, [
    `${file}:5:20 model.heads: expected a divisor of model.dModel = 30 (heads split d_model ` +
    `evenly) (got 4)`,
    `1 mistake in ${file}; nothing was run`,
  ]);
  await assert.rejects(Deno.stat(`${dir}/results`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("validation: the docs' four-mistake example reports all four in one pass", async () => {
  const { file, lines } = await mistakes(`name: bad
task:
  name: copy
model:
  layers: 2
  dmodel: 64
  dModel: 32
  positional: rop
  dFF: 64
train:
  epochs: 1
seeds: 1
axes:
  model.head: [1, 2]
  model.heads: [1, 3]
`);
  assert.deepEqual(lines, [
    `${file}:6:3 model.dmodel: unknown key; did you mean "dModel"? (got 64)`,
    `${file}:8:15 model.positional: expected one of "sinusoid", "learned", "none", "rope", ` +
    `"alibi"; did you mean "rope"? (got "rop")`,
    `${file}:14:3 axes["model.head"]: unknown config path; did you mean "model.heads"? ` +
    `(got "model.head")`,
    `${file}:15:20 model.heads: expected a divisor of model.dModel = 32 (heads split d_model ` +
    `evenly) (got 3)`,
  ]);
});

Deno.test("validation: NaN, an impossible size, a bad baseline, a misspelt and a duplicate axis value, at once", async () => {
  const { file, lines } = await mistakes(`name: many
task: { name: copy }
model: { dModel: 1000000000, dropout: .nan }
train: { epochs: 1, weightDecay: .inf }
baseline: "model.positional=learnd"
axes:
  model.positional: [sinusoid, rop, sinusoid]
`);
  assert.equal(lines.length, 6, lines.join("\n"));
  assert.match(lines[0], /:3:18 model\.dModel: a size this large cannot be trained: .*GiB/);
  assert.match(lines[1], /:3:39 model\.dropout: expected a finite number \(got NaN\)$/);
  assert.match(lines[2], /:4:34 train\.weightDecay: expected a finite number \(got Infinity\)$/);
  assert.match(lines[3], /:5:11 baseline: expected a variant.*\(got "model\.positional=learnd"\)$/);
  assert.match(lines[4], /:7:32 model\.positional: expected one of .*\(got "rop"\)$/);
  assert.equal(
    lines[5],
    `${file}:7:37 axes["model.positional"][2]: a duplicate of axes["model.positional"][0]: ` +
      `remove one (got "sinusoid")`,
  );
});

Deno.test("validation: an experiment may not take the name of the results root's own files", async () => {
  const { file, lines } = await mistakes("name: index.html\ntask: { name: copy }\n");
  assert.deepEqual(lines, [
    `${file}:1:7 name: expected another name: the results folder keeps index.html and names ` +
    `ending in .html or .tmp for its own files (got "index.html")`,
  ]);
});

Deno.test("validation: JSON is parsed as JSON (a trailing comma is refused where it is)", async () => {
  const { file, lines } = await mistakes(
    '{\n  "name": "j",\n  "task": { "name": "copy" },\n}\n',
    "json",
  );
  assert.deepEqual(lines, [`${file}:3:29 JSON syntax: a trailing comma (JSON allows none)`]);
});

Deno.test("validation: a TypeScript file that throws, does not parse, or never finishes loading is located", async () => {
  const thrown = await mistakes('const a = 1;\nthrow new Error("boom " + a);\n', "ts");
  assert.deepEqual(thrown.lines, [`${thrown.file}:2:7 the module failed to load: boom 1`]);
  const syntax = await mistakes(
    'export default {\n  name: "x",\n  task: { name: "copy" } x: 1,\n};\n',
    "ts",
  );
  assert.equal(syntax.lines.length, 1);
  assert.match(
    syntax.lines[0],
    new RegExp(`^${syntax.file}:3:26 the module failed to load: .*Expected`),
  );
  // In its own process: a module that never finishes loading stays pending in this one.
  const dir = await Deno.makeTempDir({ prefix: "fuselab-hung-" });
  await Deno.writeTextFile(`${dir}/hung.ts`, "await new Promise(() => {});\nexport default {};\n");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      new URL("../../cli.ts", import.meta.url).pathname,
      "exp",
      `${dir}/hung.ts`,
      "--dry-run",
    ],
    env: { FUSELAB_LOAD_TIMEOUT_S: "0.5" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 2, err);
  assert.match(err, new RegExp(`^${dir}/hung\\.ts:1:1 the module did not finish loading`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("validation: missing and damaged data files are mistakes found before anything trains", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-data-" });
  await Deno.writeFile(`${dir}/random.h5`, crypto.getRandomValues(new Uint8Array(4096)));
  const { lines } = await mistakes(`name: data
task: { name: mmimdb, path: ${dir}/nothere.hdf5 }
axes:
  task.path: [${dir}/nothere.hdf5, ${dir}/random.h5]
`);
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /:4:15 task\.path: the data file .*nothere\.hdf5: file: does not exist/);
  assert.match(
    lines[1],
    /task\.path: the data file .*random\.h5: file: is not a readable HDF5 file: file signature not found \(Not an HDF5 file\)/,
  );
  assert.doesNotMatch(lines.join("\n"), /HDF5-DIAG|#00/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report settings reach the manifest and leave run ids alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    const body = `name: r
task: { name: copy }
axes: { model.heads: [2, 4] }
seeds: 2
`;
    await Deno.writeTextFile(`${dir}/a.yaml`, body);
    await Deno.writeTextFile(
      `${dir}/b.yaml`,
      body + `report: { correction: bonferroni, ranges: { loss: [0, 10] } }\n`,
    );
    const a = await loadExperiment(`${dir}/a.yaml`, { resultsRoot: dir });
    const b = await loadExperiment(`${dir}/b.yaml`, { resultsRoot: dir });
    assert.deepEqual(b.plan.runs.map((r) => r.id), a.plan.runs.map((r) => r.id));
    assert.equal(a.plan.manifest.correction, undefined);
    assert.equal(b.plan.manifest.correction, "bonferroni");
    // the task declares its proportions; the file adds (or overrides) the rest
    assert.deepEqual(a.plan.manifest.ranges, { token_accuracy: [0, 1], exact_match: [0, 1] });
    assert.deepEqual(b.plan.manifest.ranges?.loss, [0, 10]);
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      body + `report: { correction: holmes, ranges: { acuracy: [1, 0] } }\n`,
    );
    await assert.rejects(loadExperiment(`${dir}/c.yaml`), (e: ExperimentError) => {
      const text = e.lines.join("\n");
      assert.match(text, /report\.correction.*"holm"/);
      assert.match(text, /report\.ranges\.acuracy: unknown metric of task copy/);
      assert.match(text, /low < high/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("language_model: a primary metric of a family (ppl@<length>) is lower-is-better", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-exp-" });
  for (const [primary, hib] of [["ppl_ratio@256", false], ["ppl@128", false], ["bpc@64", false]]) {
    const file = `${dir}/e.yaml`;
    await Deno.writeTextFile(
      file,
      `name: e\ntask: { name: language_model }\nseeds: 1\nmetrics: { primary: ${primary} }\n`,
    );
    const loaded = await loadExperiment(file);
    assert.equal(loaded.plan.manifest.primary.higherIsBetter, hib, primary as string);
  }
  await Deno.remove(dir, { recursive: true });
});
