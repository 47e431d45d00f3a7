/**
 * The JSON Schema of experiment files, generated from the zod schema, for
 * editor completion in YAML and JSON experiments
 * (`# yaml-language-server: $schema=./schema.json`).
 *
 *   deno run --allow-write lib/experiment/json_schema.ts   # writes experiments/schema.json
 *
 * @module
 */
import { z } from "zod";
import { Experiment } from "./schema.ts";
import { registryTasks } from "./tasks.ts";

/** Where the generated schema lives. */
export const SCHEMA_PATH = new URL("../../experiments/schema.json", import.meta.url);

/**
 * The JSON Schema of an experiment file, as text (stable, with a final
 * newline). `task` lists each registered task's options, keyed by its name.
 */
export async function experimentJsonSchema(): Promise<string> {
  const schema = z.toJSONSchema(Experiment, { io: "input", unrepresentable: "any" }) as
    & Record<
      string,
      unknown
    >
    & { properties: Record<string, unknown> };
  const tasks = await registryTasks();
  const variants = Object.values(tasks).map((task) => {
    const opts = z.toJSONSchema(task.options as z.ZodType, {
      io: "input",
      unrepresentable: "any",
    }) as Record<string, unknown> & { properties?: Record<string, unknown> };
    const { $schema: _s, ...rest } = opts;
    return {
      ...rest,
      type: "object",
      description: task.description,
      properties: { name: { const: task.name }, ...(opts.properties ?? {}) },
      required: ["name", ...((opts.required as string[] | undefined) ?? [])],
    };
  });
  if (variants.length) {
    schema.properties.task = {
      description: "The task (`name`) and its options.",
      oneOf: variants,
    };
  }
  const out = {
    ...schema,
    $id: "https://fuselab.dev/experiment.schema.json",
    title: "fuselab experiment",
    description: "An ablation: a base config, axes over config paths, seeds and metrics. " +
      "See docs/experiments.md.",
  };
  return JSON.stringify(out, null, 2) + "\n";
}

if (import.meta.main) {
  await Deno.writeTextFile(SCHEMA_PATH, await experimentJsonSchema());
  console.log(`wrote ${SCHEMA_PATH.pathname}`);
}
