/**
 * Bind groups made once and reused, on TF.js's webgpu backend.
 *
 * `createBindGroup` is the costliest WebGPU call of a step in Deno (about
 * 50 µs here, 26 µs on an H200, for each of a step's ~115 dispatches), and a
 * training step binds the same buffers in the same roles every time, but
 * only if TF.js's buffer pool hands them out in the same order. It does not:
 * its free lists are stacks, and the order buffers come back in after each
 * submit permutes them from step to step (9 of 115 bind groups repeated).
 * Two things make them repeat:
 *
 * - after every submit, each free list is put in one fixed order (by when the
 *   buffer was first seen), so the same sequence of kernels gets the same
 *   buffers;
 * - `device.createBindGroup` looks its descriptor up (the layout and each
 *   entry's buffer, offset and size) and returns the bind group it made for
 *   the same descriptor before.
 *
 * A bind group only refers to its layout and buffers, so reusing one is
 * exactly creating it again. The cache is emptied when it exceeds
 * {@link MAX_BIND_GROUPS} entries.
 *
 * @module
 */
import { envSwitch } from "../switches.ts";

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** Entries kept before the cache starts over. */
export const MAX_BIND_GROUPS = 4096;

const cacheSwitch = envSwitch("FUSELAB_WEBGPU_BIND_GROUP_CACHE", true);

/**
 * Turns the bind group cache on (the default) or off, for comparisons and
 * tests; `FUSELAB_WEBGPU_BIND_GROUP_CACHE=0` turns it off from the start.
 */
export function setBindGroupCache(enabled: boolean): void {
  cacheSwitch.on = enabled;
}

const stats = { hits: 0, misses: 0, resets: 0 };

/** Bind groups reused, made, and cache resets since start-up (a copy). */
export function bindGroupStats(): typeof stats {
  return { ...stats };
}

const ids = new WeakMap<object, number>();
let nextId = 1;
/** A number per object, in the order objects are first seen. */
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, id = nextId++);
  return id;
}

interface Entry {
  binding: number;
  resource: { buffer?: object; offset?: number; size?: number };
}

/** The cache key of a descriptor, or null when an entry is not a buffer. */
function keyOf(layout: object, entries: Entry[]): string | null {
  let key = `${idOf(layout)}`;
  for (const e of entries) {
    const r = e.resource;
    if (!r?.buffer) return null;
    key += `|${e.binding}:${idOf(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`;
  }
  return key;
}

/** Installs both halves on `backend`: free lists in a fixed order, and the cache. */
export function installBindGroupCache(backend: AnyBackend): void {
  const device = backend.device;
  const create = device.createBindGroup.bind(device);
  const cache = new Map<string, unknown>();
  device.createBindGroup = (desc: { layout: object; entries: Entry[] }) => {
    const key = cacheSwitch.on ? keyOf(desc.layout, desc.entries) : null;
    if (key === null) return create(desc);
    let group = cache.get(key);
    if (group) {
      stats.hits++;
      return group;
    }
    stats.misses++;
    if (cache.size >= MAX_BIND_GROUPS) {
      cache.clear();
      stats.resets++;
    }
    group = create(desc);
    cache.set(key, group);
    return group;
  };
  const submitQueue = backend.submitQueue.bind(backend);
  backend.submitQueue = () => {
    submitQueue();
    if (!cacheSwitch.on) return;
    const free = backend.bufferManager?.freeBuffers as Map<string, object[]> | undefined;
    for (const list of free?.values() ?? []) {
      if (list.length > 1) list.sort((a, b) => idOf(a) - idOf(b));
    }
  };
}
