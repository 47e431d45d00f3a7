/**
 * fuselab's on/off switches for its own kernels and fused modules (the
 * WebGPU ones: attention, cross-entropy, column sums, matmul plan, …). Each
 * is read once from its environment variable — `0` turns it off, `1` on,
 * anything else or nothing keeps its default — and can be changed at run
 * time, for tests and side-by-side comparisons. {@link switches} lists them
 * all with their state.
 *
 * @module
 */

/** One switch: its variable, its default, and whether it is on now. */
export interface Switch {
  /** The environment variable, e.g. `FUSELAB_WEBGPU_MATMUL_PLAN`. */
  readonly env: string;
  /** Its state when the variable is unset. */
  readonly fallback: boolean;
  on: boolean;
}

const registry: Switch[] = [];

/** A switch read from `env` (`0` off, `1` on, else `fallback`), listed by {@link switches}. */
export function envSwitch(env: string, fallback: boolean): Switch {
  const v = Deno.env.get(env);
  const s: Switch = { env, fallback, on: v === "0" ? false : v === "1" ? true : fallback };
  registry.push(s);
  return s;
}

/** Every switch made so far (its module imported), in the order they were made. */
export function switches(): readonly Switch[] {
  return registry;
}

/** The switches not at their defaults, as `ENV=0|1`, e.g. for a report line. */
export function changedSwitches(): string[] {
  return registry.filter((s) => s.on !== s.fallback).map((s) => `${s.env}=${s.on ? 1 : 0}`);
}
