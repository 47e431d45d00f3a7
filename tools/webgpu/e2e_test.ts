/**
 * WebGPU end to end: a task's whole path — `create()` → loss → gradients →
 * Adam → `evaluate()` → `insights()` — runs on the webgpu backend, where no
 * tensor can be read synchronously, and gives the cpu backend's numbers.
 *
 * Two tiny runs, each on cpu and then on webgpu from the same seed:
 * - the copy task (encoder–decoder, learned positions, label smoothing, Noam
 *   rate; evaluation decodes greedily; insights read the attention maps and
 *   the learned positional table);
 * - gmu_synthetic (MLP encoders, a bimodal GMU; evaluation reads
 *   probabilities and gates; insights the gate activations);
 * - multimodal_sequences (a token and a frame sequence, each through a
 *   Transformer encoder with a learned table and masked mean pooling, fused by
 *   a GMU; insights read the gates and the learned table).
 *
 * Also: each asynchronous reader (attention maps, positional table, beam
 * search, sequence log-probability, multimodal prediction, mean gates) gives
 * what its synchronous CPU-only form gives, on cpu always and on webgpu.
 *
 * Runs on any WebGPU adapter, the software one (llvmpipe) included; without
 * one the WebGPU tests are skipped and the reason printed.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/engine/backend.ts";
import { checkWebGPU, probeWebGPU } from "../../lib/engine/webgpu/backend.ts";
import { Adam } from "../../lib/train/adam.ts";
import { valueAndGrads } from "../../lib/train/grads.ts";
import { learningRate } from "../../lib/train/loop.ts";
import type { RunConfig } from "../../lib/contract/config.ts";
import type { Metrics, Task } from "../../lib/tasks/task.ts";
import { createRun, testConfig } from "../../lib/tasks/task_test_support.ts";
import { copyTask } from "../../lib/tasks/copy.ts";
import { gmuSyntheticTask } from "../../lib/tasks/gmu_synthetic.ts";
import { multimodalSequencesTask } from "../../lib/tasks/multimodal_sequences.ts";
import { Rng } from "../../lib/util/rng.ts";
import { makeModel } from "../../lib/nn/encoder_decoder.ts";
import { paddingMask } from "../../lib/nn/masks.ts";
import {
  beamSearch,
  beamSearchAsync,
  sequenceLogProb,
  sequenceLogProbAsync,
} from "../../lib/train/beam.ts";
import { meanGates, readMeanGates } from "../../lib/fusion/classifier.ts";
import { type MultimodalBatch, MultimodalClassifier } from "../../lib/models/multimodal.ts";

const probe = await probeWebGPU();
if (!probe.ok) {
  console.log(
    `SKIP webgpu end-to-end tests (tools/webgpu/e2e_test.ts): ${probe.why}. ` +
      "Install mesa-vulkan-drivers for the software adapter.",
  );
}

/** What one backend produced for a run. */
interface Outcome {
  losses: number[];
  metrics: Metrics;
  insights: Record<string, unknown>;
}

/**
 * Trains `steps` steps of a task on a backend, the way the runner does
 * (asynchronous loss reads, Adam with the config's rate), then evaluates on
 * val and collects the insights. Frees everything it made.
 */
async function runOn(
  backend: "cpu" | "webgpu",
  // deno-lint-ignore no-explicit-any
  task: Task<any>,
  config: RunConfig,
  steps: number,
): Promise<Outcome> {
  await selectBackend(backend);
  assert.equal(tf.getBackend(), backend);
  const before = tf.memory().numTensors;
  const { run } = await createRun(task, config);
  const params = run.model.trainableParameters();
  const adam = new Adam(params, {
    beta1: config.train.beta1,
    beta2: config.train.beta2,
    epsilon: config.train.epsilon,
  });
  const losses: number[] = [];
  run.model.train();
  for (const batch of run.batches(0)) {
    if (losses.length === steps) break;
    const { value, grads } = valueAndGrads(params, () => run.loss(batch));
    losses.push((await value.data())[0]);
    adam.apply(grads, learningRate(config, losses.length));
    tf.dispose([value, ...Object.values(grads)]);
  }
  run.model.eval();
  const metrics = await run.evaluate("val");
  const insights = await run.insights!();
  if (backend === "webgpu") await checkWebGPU();
  adam.dispose();
  run.model.dispose();
  run.dispose?.();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors left behind`);
  return { losses, metrics, insights };
}

/** Every number in two JSON-like values, pairwise (same structure asserted). */
function numbersOf(a: unknown, b: unknown, path: string, out: [number, number, string][]): void {
  if (typeof a === "number" && typeof b === "number") {
    out.push([a, b, path]);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((x, i) => numbersOf(x, b[i], `${path}[${i}]`, out));
  } else if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).toSorted(), kb = Object.keys(b).toSorted();
    assert.deepEqual(ka, kb, `${path}: keys`);
    for (const k of ka) {
      numbersOf(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
        out,
      );
    }
  } else {
    assert.deepEqual(a, b, path);
  }
}

/** |gpu − cpu| ≤ atol + rtol·|cpu| for every number of two JSON-like values. */
function assertAllClose(gpu: unknown, cpu: unknown, what: string, atol = 1e-4, rtol = 1e-4) {
  const pairs: [number, number, string][] = [];
  numbersOf(gpu, cpu, what, pairs);
  for (const [g, c, path] of pairs) {
    assert.ok(Math.abs(g - c) <= atol + rtol * Math.abs(c), `${path}: webgpu ${g}, cpu ${c}`);
  }
}

/**
 * Metrics: losses and other continuous values within tolerance; counts of
 * items (accuracy, exact match) may differ by at most one item, an argmax
 * tie broken differently by a last-bit difference.
 */
function assertMetricsClose(gpu: Metrics, cpu: Metrics, items: number, what: string) {
  assert.deepEqual(Object.keys(gpu).toSorted(), Object.keys(cpu).toSorted(), `${what}: names`);
  for (const [k, c] of Object.entries(cpu)) {
    const g = gpu[k];
    const tol = /accuracy|exact_match|f1/.test(k) ? 1 / items + 1e-9 : 1e-4 + 1e-4 * Math.abs(c);
    assert.ok(Math.abs(g - c) <= tol, `${what} ${k}: webgpu ${g}, cpu ${c}`);
  }
}

Deno.test({
  name: "webgpu end to end: copy task trains, evaluates and gives insights as on cpu",
  ignore: !probe.ok,
  fn: async () => {
    const config = testConfig({
      task: { name: "copy", vocab: 7, length: 5, batchesPerEpoch: 3, valSize: 8, testSize: 8 },
      model: {
        layers: 1,
        dModel: 16,
        dFF: 32,
        heads: 2,
        dropout: 0,
        positional: "learned",
        maxLen: 8,
      },
      train: {
        batchSize: 8,
        labelSmoothing: 0.1,
        lr: { schedule: "noam", factor: 1, warmup: 4 },
      },
      seed: 5,
    });
    const cpu = await runOn("cpu", copyTask, config, 3);
    const gpu = await runOn("webgpu", copyTask, config, 3);
    assert.equal(gpu.losses.length, 3);
    assertAllClose(gpu.losses, cpu.losses, "copy losses", 1e-5, 1e-5);
    assert.ok(cpu.losses[2] < cpu.losses[0], `training lowers the loss: ${cpu.losses}`);
    assertMetricsClose(gpu.metrics, cpu.metrics, 8 * 4, "copy val");
    assert.ok(Number.isFinite(gpu.metrics.loss) && gpu.metrics.loss > 0);
    // The insights: the learned table (8 rows asked, 5 + 0 the sample length) and attention.
    const att = gpu.insights.attention as { tokens: string[]; layers: { heads: number[][][] }[] };
    assert.equal(att.layers.length, 1);
    assert.equal(att.layers[0].heads.length, 2, "one map per head");
    assert.equal(att.layers[0].heads[0].length, att.tokens.length);
    for (const row of att.layers[0].heads[1]) {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, "attention rows sum to 1");
    }
    const pos = gpu.insights.positional as { kind: string; matrix: number[][] };
    assert.equal(pos.kind, "learned");
    assert.equal(pos.matrix[0].length, 16);
    assertAllClose(gpu.insights, cpu.insights, "copy insights");
  },
});

Deno.test({
  name: "webgpu end to end: gmu_synthetic trains, evaluates and gives gates as on cpu",
  ignore: !probe.ok,
  fn: async () => {
    const config = testConfig({
      task: {
        name: "gmu_synthetic",
        modalities: 2,
        dim: 8,
        trainSize: 48,
        valSize: 40,
        testSize: 8,
      },
      model: { fusion: "gmu", fusionDim: 8, dropout: 0 },
      train: { batchSize: 16, lr: { schedule: "constant", value: 0.01 } },
      seed: 1,
    });
    const cpu = await runOn("cpu", gmuSyntheticTask, config, 3);
    const gpu = await runOn("webgpu", gmuSyntheticTask, config, 3);
    assert.equal(gpu.losses.length, 3);
    assertAllClose(gpu.losses, cpu.losses, "gmu losses", 1e-5, 1e-5);
    assertMetricsClose(gpu.metrics, cpu.metrics, 40, "gmu val");
    assert.ok("gate_accuracy" in gpu.metrics, "gate metrics reported");
    const gates = gpu.insights.gates as { modalities: string[]; values: number[][] };
    assert.equal(gates.values.length, 40);
    for (const [a, b] of gates.values) {
      assert.ok(a > 0 && a < 1 && b > 0 && b < 1, "gates in (0, 1)");
    }
    assertAllClose(gpu.insights, cpu.insights, "gmu insights");
  },
});

Deno.test({
  name: "webgpu end to end: multimodal_sequences (sequence encoders + GMU) as on cpu",
  ignore: !probe.ok,
  fn: async () => {
    const config = testConfig({
      task: {
        name: "multimodal_sequences",
        vocab: 8,
        features: 4,
        textLength: [3, 6],
        audioLength: [4, 6],
        trainSize: 32,
        valSize: 24,
        testSize: 8,
      },
      model: {
        layers: 1,
        dModel: 8,
        dFF: 16,
        heads: 2,
        fusion: "gmu",
        fusionDim: 8,
        dropout: 0,
        positional: "learned",
        maxLen: 8,
      },
      train: { batchSize: 16, lr: { schedule: "constant", value: 0.01 } },
      seed: 2,
    });
    const cpu = await runOn("cpu", multimodalSequencesTask, config, 2);
    const gpu = await runOn("webgpu", multimodalSequencesTask, config, 2);
    assert.equal(gpu.losses.length, 2);
    assertAllClose(gpu.losses, cpu.losses, "sequence losses", 1e-5, 1e-5);
    assertMetricsClose(gpu.metrics, cpu.metrics, 24, "sequences val");
    const pos = gpu.insights.positional as { kind: string; matrix: number[][] };
    assert.equal(pos.kind, "learned");
    assert.deepEqual([pos.matrix.length, pos.matrix[0].length], [8, 8]);
    assert.equal((gpu.insights.gates as { values: number[][] }).values.length, 24);
    assertAllClose(gpu.insights, cpu.insights, "sequences insights");
  },
});

/** Every asynchronous reader's output on the current backend (fresh models from fixed seeds). */
async function asyncReaders(): Promise<Record<string, unknown>> {
  const m = makeModel(7, 7, {
    N: 1,
    dModel: 8,
    dFF: 16,
    h: 2,
    dropout: 0,
    positional: "learned",
    maxLen: 8,
  }, new Rng(3)).eval();
  const src = tf.tensor2d([[1, 3, 4, 5, 2, 0], [1, 6, 6, 2, 0, 0]], [2, 6], "int32");
  const mask = paddingMask(src);
  const beam = await beamSearchAsync(m, src, mask, 5, 1, { beamSize: 3, endSymbol: 2 });
  const logp = await sequenceLogProbAsync(m, src, mask, beam.ids);
  const attn = m.encoder.layers.items[0].selfAttn;
  attn.recordAttention = true;
  tf.tidy(() => {
    m.encode(src, mask);
  });
  const attention = await attn.readAttention();
  attn.recordAttention = false;
  const positional = await m.srcPositional.readPositionalMatrix(6);
  const { model: mc } = testConfig({ task: { name: "gmu_synthetic" }, model: { fusionDim: 4 } });
  const clf = new MultimodalClassifier(
    [{ name: "a", kind: "vector", dim: 3 }, { name: "b", kind: "vector", dim: 3 }],
    3,
    mc,
    new Rng(4),
  ).eval();
  const rng = new Rng(5);
  const vec = () => Float32Array.from({ length: 12 }, () => rng.normal());
  const batch: MultimodalBatch = {
    rows: 4,
    modalities: [{ kind: "vector", data: vec(), dim: 3 }, { kind: "vector", data: vec(), dim: 3 }],
    labels: Int32Array.from([0, 1, 2, 0]),
  };
  const pred = await clf.predictAsync(batch);
  const gates = tf.tidy(() => clf.forward(batch).gates);
  const means = await readMeanGates(gates);
  const out = {
    beamIds: Array.from(await beam.ids.data()),
    beamScores: beam.scores,
    logp,
    attention,
    positional,
    probs: Array.from(pred.probs),
    gates: Array.from(pred.gates!),
    means,
  };
  tf.dispose([src, mask, beam.ids, ...gates]);
  m.dispose();
  clf.dispose();
  return out;
}

/** The same values through the synchronous (CPU-only) forms. */
function syncReaders(): Record<string, unknown> {
  const m = makeModel(7, 7, {
    N: 1,
    dModel: 8,
    dFF: 16,
    h: 2,
    dropout: 0,
    positional: "learned",
    maxLen: 8,
  }, new Rng(3)).eval();
  const src = tf.tensor2d([[1, 3, 4, 5, 2, 0], [1, 6, 6, 2, 0, 0]], [2, 6], "int32");
  const mask = paddingMask(src);
  const beam = beamSearch(m, src, mask, 5, 1, { beamSize: 3, endSymbol: 2 });
  const logp = sequenceLogProb(m, src, mask, beam.ids);
  const attn = m.encoder.layers.items[0].selfAttn;
  attn.recordAttention = true;
  tf.tidy(() => {
    m.encode(src, mask);
  });
  const attention = attn.lastAttention;
  attn.recordAttention = false;
  const positional = m.srcPositional.positionalMatrix(6);
  const { model: mc } = testConfig({ task: { name: "gmu_synthetic" }, model: { fusionDim: 4 } });
  const clf = new MultimodalClassifier(
    [{ name: "a", kind: "vector", dim: 3 }, { name: "b", kind: "vector", dim: 3 }],
    3,
    mc,
    new Rng(4),
  ).eval();
  const rng = new Rng(5);
  const vec = () => Float32Array.from({ length: 12 }, () => rng.normal());
  const batch: MultimodalBatch = {
    rows: 4,
    modalities: [{ kind: "vector", data: vec(), dim: 3 }, { kind: "vector", data: vec(), dim: 3 }],
    labels: Int32Array.from([0, 1, 2, 0]),
  };
  const pred = clf.predict(batch);
  const gates = tf.tidy(() => clf.forward(batch).gates);
  const out = {
    beamIds: Array.from(beam.ids.dataSync()),
    beamScores: beam.scores,
    logp,
    attention,
    positional,
    probs: Array.from(pred.probs),
    gates: Array.from(pred.gates!),
    means: meanGates(gates),
  };
  tf.dispose([src, mask, beam.ids, ...gates]);
  m.dispose();
  clf.dispose();
  return out;
}

Deno.test("asynchronous readers give what the synchronous CPU-only ones give (cpu, webgpu)", async () => {
  await selectBackend("cpu");
  const before = tf.memory().numTensors;
  const sync = syncReaders();
  const cpuAsync = await asyncReaders();
  assert.equal(tf.memory().numTensors, before, "cpu: tensors left behind");
  assertAllClose(cpuAsync, sync, "cpu async vs sync", 0, 0);
  const attention = sync.attention as number[][][][];
  assert.deepEqual([attention.length, attention[0].length, attention[0][0].length], [2, 2, 6]);
  assert.equal((sync.beamIds as number[]).length, 10);
  if (!probe.ok) return;
  await selectBackend("webgpu");
  const gpu = await asyncReaders();
  await checkWebGPU();
  // Beam choices are discrete: the same tokens, scores within float tolerance.
  assert.deepEqual(gpu.beamIds, sync.beamIds);
  assertAllClose(gpu, sync, "webgpu async vs cpu sync");
});

Deno.test({
  name: "webgpu: clipGlobalNorm over many gradients (more than one shader can bind) matches cpu",
  ignore: !probe.ok,
  fn: async () => {
    const { clipGlobalNorm } = await import("../../lib/train/loop.ts");
    const clip = async (backend: "cpu" | "webgpu") => {
      await selectBackend(backend);
      const rng = new Rng(7);
      const grads: Record<string, tf.Tensor> = {};
      for (let i = 0; i < 12; i++) {
        grads[`p${i}`] = tf.tensor1d(Array.from({ length: 5 + i }, () => rng.normal()));
      }
      const norm = await clipGlobalNorm(grads, 1);
      const clipped = await Promise.all(Object.values(grads).map((g) => g.data()));
      tf.dispose(Object.values(grads));
      return { norm, clipped: clipped.flatMap((a) => Array.from(a)) };
    };
    const cpu = await clip("cpu");
    const gpu = await clip("webgpu");
    assert.ok(cpu.norm > 1);
    assert.ok(Math.abs(cpu.norm - gpu.norm) < 1e-4 * cpu.norm, `${cpu.norm} vs ${gpu.norm}`);
    cpu.clipped.forEach((v, i) => assert.ok(Math.abs(v - gpu.clipped[i]) < 1e-5));
    await selectBackend("wasm");
  },
});
