/**
 * What the experiment tests share: TypeScript experiments on the test task
 * `dummy_linear` (`testdata/dummy_task.ts`), as text or written to a fresh
 * temporary folder; running the command line in-process without its
 * output; and reading what a run wrote.
 *
 * @module
 */
import type { StatusRecord } from "../contract/results.ts";
import { type LoadedExperiment, loadExperiment } from "./loader.ts";

const DUMMY = new URL("./testdata/dummy_task.ts", import.meta.url).href;
const SCHEMA = new URL("./schema.ts", import.meta.url).href;

/**
 * A TypeScript experiment using the test task: its imports, then
 * `defineExperiment({` with `body` (object fields, one per line) from line 5.
 */
export function dummyExperimentText(body: string): string {
  return `import { defineExperiment } from "${SCHEMA}";
import { dummyTask } from "${DUMMY}";
export const tasks = [dummyTask];
export default defineExperiment({
${body}
});
`;
}

/**
 * Writes {@link dummyExperimentText} as `exp.ts` in a fresh temporary folder
 * named with `prefix`; returns the folder, the file and a results root in it.
 */
export async function writeDummyExperiment(
  body: string,
  prefix: string,
): Promise<{ dir: string; file: string; results: string }> {
  const dir = await Deno.makeTempDir({ prefix });
  const file = `${dir}/exp.ts`;
  await Deno.writeTextFile(file, dummyExperimentText(body));
  return { dir, file, results: `${dir}/results` };
}

/** Runs `f` with `console.log` and `Deno.stdout.writeSync` silenced, restoring both after. */
export async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  const write = Deno.stdout.writeSync;
  console.log = () => {};
  Deno.stdout.writeSync = (b: Uint8Array) => b.length;
  try {
    return await f();
  } finally {
    console.log = log;
    Deno.stdout.writeSync = write;
  }
}

/** An experiment file's plan under a results root, and each planned run's folder. */
export async function runDirs(
  file: string,
  results: string,
): Promise<{ loaded: LoadedExperiment; dirs: string[] }> {
  const loaded = await loadExperiment(file, { resultsRoot: results });
  return { loaded, dirs: loaded.plan.runs.map((r) => `${loaded.experimentDir}/runs/${r.id}`) };
}

/** A run's metrics.jsonl lines without the wall-clock fields (`time`, `itemsPerS`). */
export async function runMetrics(runDir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(`${runDir}/metrics.jsonl`);
  return text.trim().split("\n").map((l) => {
    const { time: _t, itemsPerS: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

/** A run's status.json. */
export async function runStatus(runDir: string): Promise<StatusRecord> {
  return JSON.parse(await Deno.readTextFile(`${runDir}/status.json`));
}
