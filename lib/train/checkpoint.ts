/**
 * Checkpoints in the safetensors format: an 8-byte little-endian header
 * length, a JSON header (`name → {dtype, shape, data_offsets}` plus a
 * `__metadata__` map of strings), then the raw little-endian tensor bytes.
 *
 * A fuselab checkpoint holds the model's parameters under their PyTorch
 * `state_dict` names (so `safetensors.torch.load_file` reads them directly),
 * Adam's moments as `optim.m.<name>` / `optim.v.<name>`, and in the metadata
 * the step, the epoch, the random-generator states and the number of
 * `metrics.jsonl` lines written when it was taken.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module.ts";
import type { Adam } from "./adam.ts";
import type { LoopPosition } from "./loop.ts";
import { writeFileAtomic } from "../util/atomic.ts";

/** Element types this reader and writer support. */
export type SafetensorsDtype = "F32" | "I32";

/** One tensor as plain data. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A decoded safetensors file. */
export interface Safetensors {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function toLittleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((x, i) => {
    if (data instanceof Float32Array) view.setFloat32(i * 4, x, true);
    else view.setInt32(i * 4, x, true);
  });
  return out;
}

function fromLittleEndianBytes(
  bytes: Uint8Array,
  dtype: SafetensorsDtype,
): Float32Array | Int32Array {
  const n = bytes.byteLength / 4;
  const copy = bytes.slice();
  if (LITTLE_ENDIAN) {
    return dtype === "F32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  }
  const view = new DataView(copy.buffer);
  const out = dtype === "F32" ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = dtype === "F32" ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
  }
  return out;
}

/** Encodes tensors and string metadata as safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(`safetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const bytes = toLittleEndianBytes(tensors[name].data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Decodes safetensors bytes (F32 and I32 tensors). */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): Safetensors {
  if (bytes.length < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new Error(`${source}: header length ${headerLength} runs past the end of the file`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const data = bytes.subarray(8 + headerLength);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== "F32" && dtype !== "I32") {
      throw new Error(`${source}: "${name}" has dtype ${dtype}; only F32 and I32 are supported`);
    }
    if (end > data.length) throw new Error(`${source}: "${name}" runs past the end of the file`);
    tensors[name] = { dtype, shape, data: fromLittleEndianBytes(data.subarray(begin, end), dtype) };
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

/** Training position and random state stored with a checkpoint. */
export interface CheckpointMeta {
  /** Optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** Seconds of training so far, all attempts together. */
  trainSeconds: number;
  /** Complete lines in `metrics.jsonl` when the checkpoint was taken. */
  metricsLines: number;
  /** Random-generator states by name (see `lib/experiment/run.ts`). */
  rng: Record<string, number>;
  /** Set when training had ended and only the final evaluations remained. */
  finished?: LoopPosition["finished"];
  /** The run's first training loss (for `train.divergeFactor`). */
  initialLoss?: number;
}

async function tensorData(t: tf.Tensor): Promise<SafetensorsTensor> {
  const data = await t.data();
  if (t.dtype === "int32") return { dtype: "I32", shape: t.shape, data: data as Int32Array };
  if (t.dtype !== "float32") throw new Error(`checkpoint: dtype ${t.dtype} is not supported`);
  return { dtype: "F32", shape: t.shape, data: data as Float32Array };
}

/** Prefix of Adam's moments in a checkpoint. */
export const OPTIM_PREFIX = "optim.";

/**
 * Writes model parameters, Adam's moments and `meta` to `path` atomically.
 */
export async function saveCheckpoint(
  path: string,
  model: Module,
  adam: Adam | undefined,
  meta: CheckpointMeta,
): Promise<void> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, v] of model.namedParameters()) tensors[name] = await tensorData(v);
  if (adam) {
    for (const [name, t] of Object.entries(adam.state())) {
      tensors[OPTIM_PREFIX + name] = await tensorData(t);
    }
  }
  const metadata = {
    format: "fuselab-checkpoint-1",
    step: String(meta.step),
    epoch: String(meta.epoch),
    trainSeconds: String(meta.trainSeconds),
    metricsLines: String(meta.metricsLines),
    rng: JSON.stringify(meta.rng),
    ...(meta.finished ? { finished: JSON.stringify(meta.finished) } : {}),
    ...(meta.initialLoss !== undefined ? { initialLoss: String(meta.initialLoss) } : {}),
  };
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** A checkpoint read back: tensors plus its meta. */
export interface Checkpoint {
  tensors: Record<string, SafetensorsTensor>;
  meta: CheckpointMeta;
}

/** Reads a checkpoint written by {@link saveCheckpoint}; `undefined` if there is none. */
export async function loadCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata.format !== "fuselab-checkpoint-1") {
    throw new Error(`${path}: not a fuselab checkpoint (metadata.format is ${metadata.format})`);
  }
  return {
    tensors,
    meta: {
      step: Number(metadata.step),
      epoch: Number(metadata.epoch),
      trainSeconds: Number(metadata.trainSeconds),
      metricsLines: Number(metadata.metricsLines),
      rng: JSON.parse(metadata.rng),
      ...(metadata.finished ? { finished: JSON.parse(metadata.finished) } : {}),
      ...(metadata.initialLoss ? { initialLoss: Number(metadata.initialLoss) } : {}),
    },
  };
}

/** Loads a checkpoint's parameters into `model` and its moments into `adam`. */
export function restoreCheckpoint(ckpt: Checkpoint, model: Module, adam?: Adam): void {
  const params: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
  const moments: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(ckpt.tensors)) {
    if (name.startsWith(OPTIM_PREFIX)) {
      moments[name.slice(OPTIM_PREFIX.length)] = tf.tensor(
        t.data,
        t.shape,
        t.dtype === "I32" ? "int32" : "float32",
      );
    } else params[name] = t;
  }
  model.loadStateDict(params, true);
  if (adam) {
    adam.loadState(moments, ckpt.meta.step);
  }
  for (const t of Object.values(moments)) t.dispose();
}
