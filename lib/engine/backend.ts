/**
 * Backend selection: which TF.js backend trains, and why.
 *
 * `auto` prefers, in order: a real GPU (tfjs-node-gpu, or WebGPU on a hardware
 * adapter), tfjs-node, the wasm backend accelerated by OpenBLAS, plain wasm,
 * and last the pure-JS cpu backend. The choice, its version and the reason are
 * returned so that every run records them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerWasmKernels } from "./blas/wasm_kernels.ts";

/** Backends a user can ask for. */
export const BACKENDS = [
  "auto",
  "tfjs-node-gpu",
  "tfjs-node",
  "webgpu",
  "blas",
  "wasm",
  "cpu",
] as const;

/** A backend a user can ask for. */
export type BackendName = typeof BACKENDS[number];

/** What was chosen, recorded in each run's `env.json`. */
export interface BackendInfo {
  /** What the user asked for. */
  requested: BackendName;
  /** The fuselab backend that runs (never `auto`). */
  name: Exclude<BackendName, "auto">;
  /** The TF.js backend underneath (`tf.getBackend()`). */
  tfBackend: string;
  /** TF.js version. */
  tfjsVersion: string;
  /** Extra version details (OpenBLAS build, adapter, libtensorflow...). */
  details: Record<string, string>;
  /** Why this backend was chosen, in one sentence. */
  reason: string;
  /** Backends tried before and why they were passed over. */
  skipped: { name: string; why: string }[];
}

/** Raised when an explicitly requested backend cannot load. */
export class BackendUnavailableError extends Error {
  /** @param backend the backend asked for; @param why what failed; @param fix how to install it */
  constructor(readonly backend: string, why: string, readonly fix: string) {
    super(`backend "${backend}" is not available: ${why}\n  fix: ${fix}`);
    this.name = "BackendUnavailableError";
  }
}

interface Attempt {
  ok: boolean;
  why: string;
  details?: Record<string, string>;
  /** For auto: a webgpu adapter that is software only is not preferred. */
  software?: boolean;
}

const FIX: Record<Exclude<BackendName, "auto">, string> = {
  "tfjs-node-gpu":
    "install libtensorflow with CUDA, then `deno add npm:@tensorflow/tfjs-node-gpu@4.22.0 && deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu`",
  "tfjs-node":
    "`deno add npm:@tensorflow/tfjs-node@4.22.0 && deno install --allow-scripts=npm:@tensorflow/tfjs-node` (its install step downloads libtensorflow)",
  webgpu:
    "a WebGPU adapter is needed: a GPU with Vulkan/Metal/D3D12 drivers, or `apt-get install mesa-vulkan-drivers` for a software adapter",
  blas:
    "`apt-get install libopenblas0-pthread` (or set FUSELAB_OPENBLAS to the path of libopenblas)",
  wasm:
    "reinstall dependencies (`deno install`): node_modules/@tensorflow/tfjs-backend-wasm is missing",
  cpu: "the cpu backend ships with @tensorflow/tfjs; reinstall dependencies (`deno install`)",
};

function nodeModulesDir(): string {
  return new URL("../../node_modules/", import.meta.url).pathname;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function tryTfjsNode(gpu: boolean): Promise<Attempt> {
  const pkg = gpu ? "tfjs-node-gpu" : "tfjs-node";
  const dir = `${nodeModulesDir()}@tensorflow/${pkg}/`;
  if (!(await exists(`${dir}package.json`))) {
    return { ok: false, why: `@tensorflow/${pkg} is not installed` };
  }
  try {
    await import(`${dir}dist/index.js`);
    await tf.setBackend("tensorflow");
    await tf.ready();
    return { ok: true, why: `@tensorflow/${pkg} loaded`, details: { libtensorflow: pkg } };
  } catch (e) {
    return { ok: false, why: `@tensorflow/${pkg} failed to load: ${(e as Error).message}` };
  }
}

async function tryWebGPU(auto = false): Promise<Attempt> {
  try {
    const { initWebGPU } = await import("./webgpu/backend.ts");
    // For auto, a software adapter is reported without starting the backend.
    return await initWebGPU({ allowSoftware: !auto });
  } catch (e) {
    return { ok: false, why: `webgpu failed to start: ${(e as Error).message}` };
  }
}

let wasmPathsSet = false;

async function tryWasm(): Promise<Attempt> {
  const dist = `${nodeModulesDir()}@tensorflow/tfjs-backend-wasm/dist/`;
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    if (!wasmPathsSet) {
      wasm.setWasmPaths(dist);
      wasmPathsSet = true;
    }
    registerWasmKernels();
    const ok = await tf.setBackend("wasm");
    if (!ok) return { ok: false, why: "the wasm backend failed to initialise" };
    await tf.ready();
    return { ok: true, why: "wasm (SIMD) loaded", details: { wasm: wasm.version_wasm } };
  } catch (e) {
    return { ok: false, why: `wasm failed to load: ${(e as Error).message}` };
  }
}

async function tryBlas(): Promise<Attempt> {
  const w = await tryWasm();
  if (!w.ok) return w;
  try {
    const { installBlasKernels } = await import("./blas/mod.ts");
    const r = await installBlasKernels();
    return r.ok
      ? { ok: true, why: r.why, details: { ...w.details, ...r.details } }
      : { ok: false, why: r.why };
  } catch (e) {
    return { ok: false, why: `OpenBLAS kernels failed: ${(e as Error).message}` };
  }
}

async function tryCpu(): Promise<Attempt> {
  const ok = await tf.setBackend("cpu");
  await tf.ready();
  return ok ? { ok: true, why: "pure-JS cpu backend" } : { ok: false, why: "cpu failed" };
}

const TRY: Record<Exclude<BackendName, "auto">, () => Promise<Attempt>> = {
  "tfjs-node-gpu": () => tryTfjsNode(true),
  "tfjs-node": () => tryTfjsNode(false),
  webgpu: tryWebGPU,
  blas: tryBlas,
  wasm: tryWasm,
  cpu: tryCpu,
};

let current: BackendInfo | undefined;

/** The backend chosen by the last {@link selectBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Sets TF.js flags from a `KEY=value,KEY=value` list (the `FUSELAB_TFJS_FLAGS`
 * variable), e.g. `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64`. Values `true`/`false`
 * and numbers are converted. A flag named for another backend family
 * (`WEBGPU_*` while the cpu backend runs) is left for when that backend is
 * selected; any other unknown flag is an error that names it. Returns the
 * flags set.
 */
export function applyTfjsFlags(
  list: string | undefined,
): Record<string, string | number | boolean> {
  const set: Record<string, string | number | boolean> = {};
  for (const item of (list ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new Error(
        `FUSELAB_TFJS_FLAGS: "${item}" is not KEY=value (e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64)`,
      );
    }
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1).trim();
    const value = raw === "true"
      ? true
      : raw === "false"
      ? false
      : raw !== "" && Number.isFinite(Number(raw))
      ? Number(raw)
      : raw;
    if (!(key in (tf.env() as unknown as { flagRegistry: object }).flagRegistry)) {
      // A backend's flags exist once its module is loaded: WEBGPU_* flags are
      // unknown while the cpu backend runs, and wait for the webgpu backend.
      const family = key.split("_")[0].toLowerCase();
      if (family !== "" && !tf.getBackend()?.startsWith(family)) continue;
      throw new Error(
        `FUSELAB_TFJS_FLAGS: TF.js has no flag "${key}" on the ${tf.getBackend()} backend; ` +
          `the names are the keys of tf.env().flagRegistry`,
      );
    }
    tf.env().set(key, value);
    set[key] = value;
  }
  return set;
}

/**
 * Chooses and initialises a backend. An explicit name that cannot load throws
 * {@link BackendUnavailableError} with how to install it; `auto` falls through
 * its preference list and says why each was passed over.
 */
export async function selectBackend(requested: BackendName = "auto"): Promise<BackendInfo> {
  if (current && current.requested === requested) return current;
  // PROD silences TF.js's console banners ("Hi, looks like you are running
  // TensorFlow.js in Node.js...", printed on the cpu backend's first use even
  // under wasm): fuselab prints its own line about the backend and its speed.
  tf.env().set("PROD", true);
  const skipped: { name: string; why: string }[] = [];
  const finish = (name: Exclude<BackendName, "auto">, a: Attempt, reason: string) => {
    applyTfjsFlags(Deno.env.get("FUSELAB_TFJS_FLAGS"));
    current = {
      requested,
      name,
      tfBackend: tf.getBackend(),
      tfjsVersion: tf.version.tfjs,
      details: a.details ?? {},
      reason,
      skipped,
    };
    return current;
  };
  if (requested !== "auto") {
    const a = await TRY[requested]();
    if (!a.ok) throw new BackendUnavailableError(requested, a.why, FIX[requested]);
    return finish(requested, a, `requested explicitly; ${a.why}`);
  }
  // auto: GPU first, but only a real one.
  for (const name of ["tfjs-node-gpu", "webgpu", "tfjs-node", "blas", "wasm", "cpu"] as const) {
    if (name === "webgpu" && Deno.env.get("FUSELAB_AUTO_WEBGPU") === "0") {
      skipped.push({ name, why: "FUSELAB_AUTO_WEBGPU=0" });
      continue;
    }
    const a = name === "webgpu" ? await tryWebGPU(true) : await TRY[name]();
    if (a.ok && name === "webgpu" && a.software) {
      skipped.push({ name, why: `${a.why}, a software adapter (slower than the CPU backends)` });
      continue;
    }
    if (a.ok) {
      const why = skipped.length
        ? `${a.why}; passed over: ${skipped.map((s) => `${s.name} (${s.why})`).join("; ")}`
        : a.why;
      return finish(name, a, `auto: ${why}`);
    }
    skipped.push({ name, why: a.why });
    if (name === "blas") skipped[skipped.length - 1].why += ` (for speed: ${FIX.blas})`;
  }
  throw new BackendUnavailableError("auto", "no backend loaded", FIX.cpu);
}

/** One line for the terminal: `backend: wasm (auto: ...)`. */
export function describeBackend(info: BackendInfo): string {
  const d = Object.entries(info.details).map(([k, v]) => `${k} ${v}`).join(", ");
  return `backend: ${info.name} [tfjs ${info.tfjsVersion}${d ? ", " + d : ""}] — ${info.reason}`;
}
