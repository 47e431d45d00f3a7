/**
 * Finding a task by name: first among tasks an experiment file defines
 * itself (`export const tasks = [...]` in a TypeScript experiment), then in
 * the registry `lib/tasks/registry.ts`.
 *
 * @module
 */
import { TASKS } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";

/** The registry's view: every task by name. */
export interface TaskCatalog {
  /** The task called `name`, or `undefined`. */
  get(name: string): Task | undefined;
  /** Every known task name. */
  names(): string[];
}

/** The tasks of `lib/tasks/registry.ts`, by name. */
export function registryTasks(): Promise<Record<string, Task>> {
  return Promise.resolve({ ...TASKS } as Record<string, Task>);
}

/** A catalog of the registry's tasks plus `extra` ones (which win on a name clash). */
export async function taskCatalog(extra: Task[] = []): Promise<TaskCatalog> {
  const all: Record<string, Task> = await registryTasks();
  for (const t of extra) all[t.name] = t;
  return {
    get: (name) => Object.hasOwn(all, name) ? all[name] : undefined,
    names: () => Object.keys(all).sort(),
  };
}
