/**
 * Loading an experiment: the file is read (lib/experiment/source.ts), its
 * tasks found (tasks.ts), everything validated at once (validate.ts), and
 * the plan's manifest and results folder settled. Nothing is written.
 *
 * @module
 */
import { join } from "node:path";
import type { BackendName } from "../engine/backend.ts";
import type { MetricInfo, Task } from "../tasks/task.ts";
import { manifestAxes, type Plan } from "./plan.ts";
import type { Experiment } from "./schema.ts";
import { type ExperimentSource, readExperimentSource } from "./source.ts";
import { type TaskCatalog, taskCatalog } from "./tasks.ts";
import { ExperimentError, metricInfo, parseMetricName, validateExperiment } from "./validate.ts";

/** A validated experiment with its plan. */
export interface LoadedExperiment {
  /** The experiment file as given. */
  file: string;
  source: ExperimentSource;
  experiment: Experiment;
  /** The task the experiment uses. */
  task: Task;
  catalog: TaskCatalog;
  plan: Plan;
  /** Results root (`results` by default). */
  resultsRoot: string;
  /** `<resultsRoot>/<name>`. */
  experimentDir: string;
}

/** Options of {@link loadExperiment}. */
export interface LoadOptions {
  /** Overrides the file's backend (`--backend`); part of each run's config. */
  backend?: BackendName;
  /** Overrides the file's `resultsDir` (`--results`). */
  resultsRoot?: string;
  /** `false` skips the data-file checks (planning only; see `ValidateOptions`). */
  checkData?: boolean;
}

/** Normalises a metric name to `<split>/<metric>`. */
function qualified(s: string): string {
  const { split, metric } = parseMetricName(s);
  return `${split}/${metric}`;
}

/**
 * Metric name → the range its values can take: the task's declared ranges,
 * then the experiment file's `report.ranges` (which win).
 */
function metricRanges(
  metrics: MetricInfo[],
  declared: Record<string, [number, number]> | undefined,
): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const m of metrics) if (m.range) out[m.name] = [m.range[0], m.range[1]];
  return { ...out, ...declared };
}

/**
 * Reads, validates and plans an experiment file. Throws
 * {@link ExperimentError} listing every mistake; nothing is written.
 */
export async function loadExperiment(
  file: string,
  opts: LoadOptions = {},
): Promise<LoadedExperiment> {
  const source = await readExperimentSource(file);
  if (source.errors.length) {
    throw new ExperimentError(
      file,
      source.errors.map(([pos, msg]) => `${file}:${pos.line}:${pos.col} ${msg}`),
    );
  }
  const catalog = await taskCatalog(source.tasks);
  const { experiment: exp, task, baseline, seeds, runs } = await validateExperiment(
    source,
    catalog,
    { backend: opts.backend, checkData: opts.checkData },
  );
  const primaryName = exp.metrics?.primary ?? task.primary;
  const primary = qualified(primaryName);
  const info = metricInfo(task, parseMetricName(primaryName).metric);
  const higherIsBetter = exp.metrics?.higherIsBetter ?? info?.higherIsBetter ??
    !/loss|error|perplexity/.test(primary);
  const resultsRoot = opts.resultsRoot ?? exp.resultsDir ?? "results";
  return {
    file,
    source,
    experiment: exp,
    task,
    catalog,
    resultsRoot,
    experimentDir: join(resultsRoot, exp.name),
    plan: {
      manifest: {
        experiment: exp.name,
        file,
        ...(exp.description ? { description: exp.description } : {}),
        axes: manifestAxes(exp),
        seeds,
        primary: { metric: primary, higherIsBetter },
        compare: (exp.metrics?.compare ?? []).map(qualified),
        baseline,
        ...(exp.report?.correction ? { correction: exp.report.correction } : {}),
        ranges: metricRanges(task.metrics, exp.report?.ranges),
        runs: runs.map(({ config: _c, ...r }) => r),
      },
      runs,
    },
  };
}
