/**
 * The README's library example is examples/library.ts, character for
 * character; it trains the copy task to a falling loss and saves a
 * checkpoint that loads back; the same script with id-keyed or misspelt
 * gradients stops at the first update with an error naming them.
 */
import assert from "node:assert/strict";
import { loadCheckpoint, makeModel, restoreCheckpoint, Rng } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SCRIPT = `${ROOT}examples/library.ts`;
const MARK = "<!-- examples/library.ts -->";

/** Runs a script with the project's config; returns exit code, stdout and stderr. */
async function run(script: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"],
      ...["--config", `${ROOT}deno.json`, script, ...args],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** A copy of the example with `edit` applied, importing mod.ts by absolute URL. */
async function variant(dir: string, name: string, edit: (s: string) => string): Promise<string> {
  const source = await Deno.readTextFile(SCRIPT);
  const edited = edit(source);
  assert.notEqual(edited, source, `${name}: the edit found nothing to change`);
  const path = `${dir}/${name}.ts`;
  await Deno.writeTextFile(path, edited.replace('"../mod.ts"', `"${ROOT}mod.ts"`));
  return path;
}

Deno.test("README: the library example is examples/library.ts verbatim", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const at = readme.indexOf(MARK);
  assert.ok(at >= 0, `README.md has no ${MARK} block`);
  const block = readme.slice(at).match(/```ts\n([\s\S]*?)```/);
  assert.ok(block, "no ```ts block after the marker");
  assert.equal(
    block[1],
    await Deno.readTextFile(SCRIPT),
    "README.md and examples/library.ts differ",
  );
});

Deno.test("examples/library.ts trains the copy task (loss falls) and saves a checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/copy.safetensors`;
    const r = await run(SCRIPT, path);
    assert.equal(r.code, 0, r.stderr);
    const m = r.stdout.match(/loss: ([\d.]+) → ([\d.]+)/);
    assert.ok(m, r.stdout);
    const [first, last] = [Number(m[1]), Number(m[2])];
    assert.ok(last < first / 4, `loss ${first} → ${last}`);
    const ckpt = await loadCheckpoint(path);
    assert.ok(ckpt, "no checkpoint written");
    assert.equal(ckpt.meta.step, 120);
    assert.ok("generator.proj.weight" in ckpt.tensors);
    assert.ok("optim.m.generator.proj.weight" in ckpt.tensors);
    // The file loads into a model of the same shape, every parameter by name (strict).
    const model = makeModel(11, 11, { N: 1, dModel: 32, dFF: 64, h: 2, dropout: 0 }, new Rng(5));
    restoreCheckpoint(ckpt, model);
    const w = ckpt.tensors["generator.proj.weight"].data;
    const got = await model.stateDict()["generator.proj.weight"].data();
    assert.deepEqual(Array.from(got), Array.from(w));
    model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the example with id-keyed or misspelt gradients fails naming them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const idKeyed = await variant(
      dir,
      "id_keyed",
      (s) => s.replace("valueAndGrads(model, () => {", "tf.variableGrads(() => {"),
    );
    const a = await run(idKeyed, `${dir}/a.safetensors`);
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /Adam\.apply: \d+ gradient\(s\) name no parameter: "\d+"/);
    assert.match(a.stderr, /valueAndGrads/);
    const misspelt = await variant(
      dir,
      "misspelt",
      (s) =>
        s.replace(
          "adam.apply(grads,",
          'adam.apply({ ...grads, "generator.proj.wieght": grads["generator.proj.weight"] },',
        ),
    );
    const b = await run(misspelt, `${dir}/b.safetensors`);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /1 gradient\(s\) name no parameter: "generator\.proj\.wieght"/);
    assert.doesNotMatch(b.stdout, /loss:/, "it stopped before training on");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
