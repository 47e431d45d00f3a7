/**
 * Finding a task by name: first among tasks an experiment file defines
 * itself (`export const tasks = [...]` in a TypeScript experiment), then in
 * the registry `lib/tasks/registry.ts`.
 *
 * @module
 */
import type { Task } from "../tasks/task.ts";

/** The registry's view: every task by name. */
export interface TaskCatalog {
  /** The task called `name`, or `undefined`. */
  get(name: string): Task | undefined;
  /** Every known task name. */
  names(): string[];
}

interface Registry {
  tasks: Record<string, Task>;
  getTask?: (name: string) => Task;
}

let registry: Promise<Registry> | undefined;

async function loadRegistry(): Promise<Registry> {
  const url = new URL("../tasks/registry.ts", import.meta.url);
  try {
    await Deno.stat(url);
  } catch {
    return { tasks: {} };
  }
  const mod = await import(url.href);
  const getTask = typeof mod.getTask === "function" ? mod.getTask : undefined;
  const listed: unknown = mod.TASKS;
  const tasks: Record<string, Task> = {};
  const entries = Array.isArray(listed)
    ? listed
    : listed && typeof listed === "object"
    ? Object.values(listed)
    : [];
  for (const entry of entries) {
    if (typeof entry === "string") {
      if (getTask) tasks[entry] = getTask(entry);
    } else if (entry && typeof entry === "object" && "name" in entry) {
      tasks[(entry as Task).name] = entry as Task;
    }
  }
  return { tasks, getTask };
}

/** The tasks of `lib/tasks/registry.ts` (empty while it does not exist). */
export async function registryTasks(): Promise<Record<string, Task>> {
  registry ??= loadRegistry();
  return (await registry).tasks;
}

/** A catalog of the registry's tasks plus `extra` ones (which win on a name clash). */
export async function taskCatalog(extra: Task[] = []): Promise<TaskCatalog> {
  registry ??= loadRegistry();
  const reg = await registry;
  const all: Record<string, Task> = { ...reg.tasks };
  for (const t of extra) all[t.name] = t;
  return {
    get(name) {
      if (Object.hasOwn(all, name)) return all[name];
      try {
        return reg.getTask?.(name);
      } catch {
        return undefined;
      }
    },
    names: () => Object.keys(all).sort(),
  };
}
