/**
 * Tidy exports of an experiment, written beside its report:
 *
 * - `runs.csv`, one row per planned run, columns in this order:
 *   `run, variant, <each axis path, in the manifest's order>, seed, status,
 *   backend, steps, train_seconds, parameters, <each final metric>`, the
 *   final metrics as `<split>/<metric>` in the report's order (the primary
 *   metric, the `compare` metrics, then the others sorted);
 * - `metrics.csv`, long format, one row per number of `metrics.jsonl`:
 *   `run, step, epoch, split, metric, value`, runs in plan order, lines in
 *   file order, a line's fields in their recorded order (`time` first).
 *
 * RFC 4180: a header line, CRLF line ends, fields holding a comma, quote or
 * line break quoted with quotes doubled. Numbers are written as JavaScript
 * prints them (the shortest text that reads back as the same double); a
 * missing value (a metric a run does not have, a `null` in
 * `metrics.jsonl`) is an empty field.
 *
 * @module
 */
import { metricKeys, valueText } from "./analysis.ts";
import { type ExperimentData, join } from "./load.ts";

/** A value of a tidy row: empty when undefined. */
export type CsvValue = string | number | boolean | null | undefined;

/** One field, quoted when RFC 4180 requires it. */
export function csvField(v: CsvValue): string {
  const s = v === undefined || v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A whole CSV document: the header, then one line per row, each line ending in CRLF. */
export function toCsv(columns: string[], rows: Record<string, CsvValue>[]): string {
  const lines = [columns.map(csvField).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(","));
  return lines.map((l) => l + "\r\n").join("");
}

/** The columns of `runs.csv`, in their documented order. */
export function runColumns(data: ExperimentData): string[] {
  return [
    "run",
    "variant",
    ...Object.keys(data.manifest.axes),
    "seed",
    "status",
    "backend",
    "steps",
    "train_seconds",
    "parameters",
    ...metricKeys(data),
  ];
}

/** One record per planned run, keyed by the columns of {@link runColumns}. */
export function runRows(data: ExperimentData): Record<string, string | number | undefined>[] {
  const axes = Object.keys(data.manifest.axes);
  const keys = metricKeys(data);
  return data.runs.map((r) => {
    const row: Record<string, string | number | undefined> = {
      run: r.run.id,
      variant: r.run.variantKey,
    };
    for (const a of axes) {
      row[a] = r.run.variant[a] === undefined ? undefined : valueText(r.run.variant[a]);
    }
    row.seed = r.run.seed;
    row.status = r.status.state;
    row.backend = r.env?.backend?.name;
    row.steps = r.status.step;
    row.train_seconds = r.status.trainSeconds;
    row.parameters = r.status.parameters;
    for (const k of keys) {
      const v = r.status.final?.[k];
      row[k] = typeof v === "number" ? v : undefined;
    }
    return row;
  });
}

/** The columns of `metrics.csv`. */
export const METRIC_COLUMNS = ["run", "step", "epoch", "split", "metric", "value"] as const;

/** One row of the long metrics table. */
export interface MetricRow {
  run: string;
  step: number;
  epoch: number;
  split: string;
  metric: string;
  /** The recorded number; undefined for a `null` (a non-finite value) in the file. */
  value: number | string | undefined;
}

/** Every number of every run's `metrics.jsonl` as a long row (see the module documentation). */
export function metricRows(data: ExperimentData): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const r of data.runs) {
    for (const line of r.metrics) {
      for (const [metric, value] of Object.entries(line)) {
        if (metric === "step" || metric === "epoch" || metric === "split") continue;
        rows.push({
          run: r.run.id,
          step: line.step,
          epoch: line.epoch,
          split: line.split,
          metric,
          value: typeof value === "number" || typeof value === "string" ? value : undefined,
        });
      }
    }
  }
  return rows;
}

/** `runs.csv` of an experiment. */
export function runsCsv(data: ExperimentData): string {
  return toCsv(runColumns(data), runRows(data));
}

/** `metrics.csv` of an experiment. */
export function metricsCsv(data: ExperimentData): string {
  return toCsv([...METRIC_COLUMNS], metricRows(data) as unknown as Record<string, CsvValue>[]);
}

/** The export files of an experiment: `[path, text]` of `runs.csv` and `metrics.csv` in its folder. */
export function csvFiles(data: ExperimentData): [string, string][] {
  return [
    [join(data.dir, "runs.csv"), runsCsv(data)],
    [join(data.dir, "metrics.csv"), metricsCsv(data)],
  ];
}
