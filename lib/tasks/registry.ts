/**
 * Every task, by the name an experiment file uses (`task.name`).
 *
 * @module
 */
import type { Task } from "./task.ts";
import { copyTask } from "./copy.ts";
import { lengthGeneralizationTask } from "./length_generalization.ts";
import { gmuSyntheticTask } from "./gmu_synthetic.ts";
import { multimodalSequencesTask } from "./multimodal_sequences.ts";
import { mmimdbTask } from "./mmimdb.ts";
import { translationTask } from "./translation.ts";
import { featuresTask } from "./features.ts";
import { languageModelTask } from "./language_model.ts";
import { brownGenreTask } from "./brown_genre.ts";
import { g2pTask } from "./g2p.ts";
import { decoderLengthTask } from "./decoder_length.ts";

/** Task name → task. */
export const TASKS: Readonly<Record<string, Task<never>>> = Object.freeze({
  copy: copyTask,
  length_generalization: lengthGeneralizationTask,
  gmu_synthetic: gmuSyntheticTask,
  multimodal_sequences: multimodalSequencesTask,
  mmimdb: mmimdbTask,
  translation: translationTask,
  features: featuresTask,
  language_model: languageModelTask,
  brown_genre: brownGenreTask,
  g2p: g2pTask,
  decoder_length_generalization: decoderLengthTask,
} as unknown as Record<string, Task<never>>);

/** Names of every task. */
export const TASK_NAMES: readonly string[] = Object.keys(TASKS);

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/**
 * The closest of `candidates` to `name`, if it is close enough to be a typo:
 * within ⌊|name|/3⌋ edits, ignoring case, and at least `minEdits` edits.
 */
export function didYouMean(
  name: string,
  candidates: readonly string[],
  minEdits = 2,
): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return bestD <= Math.max(minEdits, Math.floor(name.length / 3)) ? best : undefined;
}

/** The task called `name`; an unknown name is an error listing the valid ones. */
export function getTask(name: string): Task<unknown> {
  const t = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (t) return t as Task<unknown>;
  const guess = didYouMean(name, TASK_NAMES);
  throw new Error(
    `unknown task "${name}"${guess ? ` (did you mean "${guess}"?)` : ""}; ` +
      `valid tasks: ${TASK_NAMES.join(", ")}`,
  );
}
