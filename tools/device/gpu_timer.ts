/**
 * GPU time of each dispatch on TF.js's webgpu backend, from timestamps the
 * GPU writes at the start and end of a compute pass (the adapter's
 * `timestamp-query`). While recording, every dispatch goes in a pass of its
 * own (TF.js and fuselab's modules end the pass after each dispatch when the
 * submit batch size is 1), so each pass's two timestamps time one dispatch.
 *
 * For measuring on a GPU machine (tools/device/profile.ts --gpu-time,
 * tools/device/matmul_types.ts); the extra passes and submits make the step
 * slower on the CPU side, not the dispatches on the GPU.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// deno-lint-ignore no-explicit-any
type Any = any;

/** One timed dispatch: what ran (program, input and output shapes, grid) and its GPU time. */
export interface TimedDispatch {
  name: string;
  us: number;
  /** When it started, in µs after the first recorded pass started. */
  at: number;
  /** Dispatches in its pass (1 unless the timer was started with `split: false`). */
  dispatches: number;
}

/** Records the dispatches between `start()` and `stop()` with their GPU time. */
export interface GpuTimer {
  /**
   * Starts recording. `split: false` leaves the passes as TF.js batches them
   * (up to its submit batch size): each record then times a whole pass.
   */
  start(options?: { split?: boolean }): void;
  stop(): Promise<TimedDispatch[]>;
}

const CAPACITY = 4096; // WebGPU's largest query set

/**
 * Wraps the backend's command encoders and `runWebGPUProgram` so that
 * recorded dispatches are timed. Throws when the adapter lacks timestamps.
 */
export function installGpuTimer(): GpuTimer {
  const backend = tf.backend() as Any;
  const device = backend.device as Any;
  if (!device?.features?.has("timestamp-query")) {
    throw new Error("gpu timer: the webgpu device has no timestamp-query feature");
  }
  const querySet = device.createQuerySet({ type: "timestamp", count: CAPACITY });
  let names: string[] = [];
  let counts: number[] = [];
  let program = "";
  let recording = false;
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (p: Any, inputs: Any[], ...rest: unknown[]) => {
    const shapes = inputs.map((t) => `[${t.shape}]`).join(",");
    const kind = p.constructor.name === "Object"
      ? String(p.shaderKey).split("_").slice(0, 2).join("_")
      : p.constructor.name;
    program = `${kind} ${shapes}->[${p.outputShape}]`;
    try {
      return run(p, inputs, ...rest);
    } finally {
      program = "";
    }
  };
  const createEncoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (desc?: unknown) => {
    const enc = createEncoder(desc);
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (d: Any = {}) => {
      if (!recording || names.length * 2 + 2 > CAPACITY) return begin(d);
      const k = names.length;
      names.push("(empty pass)");
      counts.push(0);
      const pass = begin({
        ...d,
        timestampWrites: {
          querySet,
          beginningOfPassWriteIndex: 2 * k,
          endOfPassWriteIndex: 2 * k + 1,
        },
      });
      let label = "";
      const setPipeline = pass.setPipeline.bind(pass);
      pass.setPipeline = (pl: Any) => {
        label = program || pl.label || "(unnamed)";
        return setPipeline(pl);
      };
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x: number, y = 1, z = 1) => {
        names[k] = `${label} grid ${x}x${y}x${z}`;
        counts[k]++;
        return dispatch(x, y, z);
      };
      return pass;
    };
    return enc;
  };
  let batchSize: unknown;
  const flush = () => {
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
  };
  return {
    start(options = {}) {
      flush();
      names = [];
      counts = [];
      batchSize = tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE");
      if (options.split !== false) tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", 1);
      recording = true;
    },
    async stop() {
      flush();
      recording = false;
      tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", batchSize as number);
      const n = names.length;
      if (n === 0) return [];
      const bytes = 16 * n;
      const resolve = device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const enc = createEncoder({});
      enc.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const ts = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      resolve.destroy();
      read.destroy();
      return names.map((name, k) => ({
        name,
        us: Number(ts[2 * k + 1] - ts[2 * k]) / 1000,
        at: Number(ts[2 * k] - ts[0]) / 1000,
        dispatches: counts[k],
      }));
    },
  };
}

/** Sums timed dispatches by a key (e.g. the program's name) and sorts by time. */
export function sumBy(
  list: TimedDispatch[],
  key: (name: string) => string,
): [string, { n: number; us: number }][] {
  const by = new Map<string, { n: number; us: number }>();
  for (const d of list) {
    const k = key(d.name);
    const e = by.get(k) ?? { n: 0, us: 0 };
    e.n++;
    e.us += d.us;
    by.set(k, e);
  }
  return [...by].sort((a, b) => b[1].us - a[1].us);
}
