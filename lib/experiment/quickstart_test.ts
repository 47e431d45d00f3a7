/**
 * The quick start's promise, tested: its first run (sinusoid, seed 0) trains
 * through the CLI on the default backend, and the greedy decode of the
 * trained model copies its input — the copy task's own check.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { main } from "../cli/exp.ts";
import { Rng } from "../util/rng.ts";
import type { EncoderDecoder } from "../nn/encoder_decoder.ts";
import { paddingMask } from "../nn/masks.ts";
import { getTask } from "../tasks/registry.ts";
import { loadCheckpoint, restoreCheckpoint } from "../train/checkpoint.ts";
import { greedyDecode } from "../train/greedy.ts";
import type { StatusRecord } from "../contract/results.ts";
import { loadExperiment } from "./loader.ts";
import { quietly } from "./experiment_test_support.ts";

/** Slow tests run in CI (`.ci/run` sets FUSELAB_FULL_TESTS=1), not in the default suite. */
const ciOnly = Deno.env.get("FUSELAB_FULL_TESTS") === "1"
  ? undefined
  : "CI only: FUSELAB_FULL_TESTS=1 runs it";

const QUICKSTART = new URL("../../experiments/quickstart.ts", import.meta.url).pathname;

Deno.test({
  name: "quick start: a trained run's greedy decode copies its input",
  ignore: !!ciOnly,
}, async () => {
  const results = await Deno.makeTempDir({ prefix: "fuselab-quickstart-" });
  const code = await quietly(() =>
    main([QUICKSTART, "--run-index", "0", "--results", results, "--no-report", "--plain"])
  );
  assert.equal(code, 0);
  const { plan } = await loadExperiment(QUICKSTART, { resultsRoot: results });
  const run = plan.runs[0];
  assert.equal(run.config.model.positional, "sinusoid");
  const dir = `${results}/quickstart/runs/${run.id}`;
  const status = JSON.parse(await Deno.readTextFile(`${dir}/status.json`)) as StatusRecord;
  assert.equal(status.state, "done");
  assert.ok(status.final!["test/exact_match"] >= 0.85, JSON.stringify(status.final));

  // Rebuild the model from the checkpoint and decode sequences by hand.
  const task = getTask("copy");
  const options = task.options.parse(
    Object.fromEntries(Object.entries(run.config.task).filter(([k]) => k !== "name")),
  );
  const taskRun = await task.create(run.config, options as never, new Rng(run.config.seed));
  const model = taskRun.model as EncoderDecoder;
  restoreCheckpoint((await loadCheckpoint(`${dir}/checkpoint.safetensors`))!, model);
  model.eval();
  const rows = [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [1, 10, 9, 8, 7, 6, 5, 4, 3, 2],
    [1, 5, 5, 3, 3, 7, 7, 2, 2, 9],
  ];
  const src = tf.tensor2d(rows, [3, 10], "int32");
  const out = greedyDecode(model, src, paddingMask(src, 0), 10, 1);
  const decoded = (await out.array()) as number[][];
  const copied = decoded.filter((r, i) => r.join() === rows[i].join()).length;
  assert.ok(copied >= 2, `decoded ${JSON.stringify(decoded)} for ${JSON.stringify(rows)}`);
  tf.dispose([src, out]);
  taskRun.dispose?.();
  model.dispose();
  await Deno.remove(results, { recursive: true });
});
