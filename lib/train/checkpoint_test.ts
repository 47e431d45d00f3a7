import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../engine/backend.ts";
import { Module } from "../nn/module.ts";
import { Adam } from "./adam.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";

class Tiny extends Module {
  w: tf.Variable;
  b: tf.Variable;
  constructor(w: number[][], b: number[]) {
    super();
    this.w = this.param("weight", tf.tensor2d(w));
    this.b = this.param("bias", tf.tensor1d(b));
  }
}

Deno.test("safetensors: layout is 8-byte LE header length, JSON header, LE data", () => {
  const bytes = encodeSafetensors(
    {
      a: { dtype: "F32", shape: [2], data: new Float32Array([1.5, -2]) },
      b: { dtype: "I32", shape: [1, 1], data: new Int32Array([7]) },
    },
    { note: "x" },
  );
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.a, { dtype: "F32", shape: [2], data_offsets: [0, 8] });
  assert.deepEqual(header.b, { dtype: "I32", shape: [1, 1], data_offsets: [8, 12] });
  assert.deepEqual(header.__metadata__, { note: "x" });
  assert.equal((8 + n) % 8, 0, "data is 8-byte aligned");
  assert.equal(view.getFloat32(8 + n, true), 1.5);
  assert.equal(view.getFloat32(8 + n + 4, true), -2);
  assert.equal(view.getInt32(8 + n + 8, true), 7);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(back.tensors.a.data), [1.5, -2]);
  assert.deepEqual(back.tensors.b.shape, [1, 1]);
  assert.equal(back.metadata.note, "x");
});

Deno.test("safetensors: reads a file from another writer (no header padding)", () => {
  // The layout safetensors.torch.save_file writes for {"t": [[1, 2], [3, 4]]}, unpadded.
  const json = '{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}';
  const head = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + head.length + 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  const data = new DataView(bytes.buffer, 8 + head.length);
  [1, 2, 3, 4].forEach((x, i) => data.setFloat32(i * 4, x, true));
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(tensors.t.shape, [2, 2]);
  assert.deepEqual(Array.from(tensors.t.data), [1, 2, 3, 4]);
});

Deno.test("checkpoint: parameters, Adam moments, step and meta round-trip exactly", async () => {
  await selectBackend("cpu");
  const dir = await Deno.makeTempDir();
  const a = new Tiny([[1, 2], [3, 4]], [0.5, -0.5]);
  const adam = new Adam(a.trainableParameters());
  const grads = { weight: tf.tensor2d([[0.1, 0.2], [0.3, 0.4]]), bias: tf.tensor1d([1, -1]) };
  adam.apply(grads, 0.01);
  adam.apply(grads, 0.01);
  const meta = {
    step: 2,
    epoch: 1,
    trainSeconds: 1.25,
    metricsLines: 3,
    rng: { seed: 42 },
    finished: { stoppedBy: "epochs" as const, trainLoss: 0.5 },
  };
  await saveCheckpoint(`${dir}/c.safetensors`, a, adam, meta);
  const ckpt = await loadCheckpoint(`${dir}/c.safetensors`);
  assert.ok(ckpt);
  assert.deepEqual(ckpt.meta, meta);
  const b = new Tiny([[0, 0], [0, 0]], [0, 0]);
  const adamB = new Adam(b.trainableParameters());
  restoreCheckpoint(ckpt, b, adamB);
  assert.deepEqual(Array.from(b.w.dataSync()), Array.from(a.w.dataSync()));
  assert.deepEqual(Array.from(b.b.dataSync()), Array.from(a.b.dataSync()));
  assert.equal(adamB.step, 2);
  // The next update is identical on both: the moments were restored.
  adam.apply(grads, 0.01);
  adamB.apply(grads, 0.01);
  assert.deepEqual(Array.from(b.w.dataSync()), Array.from(a.w.dataSync()));
  assert.equal(await loadCheckpoint(`${dir}/missing.safetensors`), undefined);
  await Deno.remove(dir, { recursive: true });
});
