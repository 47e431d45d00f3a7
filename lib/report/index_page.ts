/**
 * `buildIndex(resultsRoot)`: `results/index.html`, every experiment with its
 * date, run states and headline result (best variant on the primary metric).
 *
 * @module
 */
import {
  bestVariant,
  latestTime,
  primaryKey,
  stateCounts,
  variantMetric,
  variantsOf,
} from "./analysis.ts";
import { esc, fmt, fmtDate, fmtPm } from "./format.ts";
import { page, table } from "./html.ts";
import { type ExperimentData, join, loadResults } from "./load.ts";
import { writeAtomic } from "./report.ts";

/** Experiment folders under a results root: those holding a `manifest.json`, sorted by name. */
export async function experimentDirs(resultsRoot: string): Promise<string[]> {
  const dirs: string[] = [];
  try {
    for await (const e of Deno.readDir(resultsRoot)) {
      if (!e.isDirectory) continue;
      try {
        if ((await Deno.stat(join(resultsRoot, e.name, "manifest.json"))).isFile) {
          dirs.push(join(resultsRoot, e.name));
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `${resultsRoot}: no such folder; run an experiment first (deno task exp <file>)`,
      );
    }
    throw err;
  }
  return dirs.sort();
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Writes `<resultsRoot>/index.html` listing every experiment folder (newest
 * first, by the latest time recorded in its results) and returns its path.
 * An experiment whose manifest cannot be read is listed with the error.
 */
export async function buildIndex(resultsRoot: string): Promise<string> {
  resultsRoot = resultsRoot.replace(/\/+$/, "") || ".";
  const rows: { name: string; time: string; cells: string[] }[] = [];
  for (const dir of await experimentDirs(resultsRoot)) {
    const name = dir.split("/").pop()!;
    let data: ExperimentData;
    try {
      data = await loadResults(dir);
    } catch (e) {
      rows.push({
        name,
        time: "",
        cells: [
          esc(name),
          "–",
          "–",
          `<span class="state-failed">unreadable</span>`,
          esc((e as Error).message),
        ],
      });
      continue;
    }
    const time = latestTime(data);
    const best = bestVariant(data);
    const key = primaryKey(data);
    const link = (await fileExists(join(dir, "report.html")))
      ? `<a href="${encodeURIComponent(name)}/report.html">${esc(data.manifest.experiment)}</a>`
      : `${esc(data.manifest.experiment)} <span class="n">(no report yet)</span>`;
    const states = stateCounts(data).map(([s, n]) => `${n} <span class="state-${s}">${s}</span>`)
      .join(", ");
    const means = variantsOf(data).map((v) => variantMetric(v, key)).filter((m) => m.values.length)
      .map((m) => m.summary.mean);
    const tie = means.length > 1 && means.every((m) => m === means[0]);
    const headline = tie
      ? `every variant: ${esc(fmt(means[0]))} ${esc(key)}`
      : best
      ? `<strong>${esc(best.variant.label)}</strong>: ${
        esc(fmtPm(best.summary.mean, best.summary.std))
      } ` +
        `${esc(key)} <span class="n">(mean ± std, n = ${best.summary.n}; ` +
        `${data.manifest.primary.higherIsBetter ? "higher" : "lower"} is better)</span>`
      : "–";
    rows.push({
      name,
      time,
      cells: [link, esc(fmtDate(time)), esc(data.manifest.description ?? ""), states, headline],
    });
  }
  rows.sort((a, b) => (b.time > a.time ? 1 : b.time < a.time ? -1 : a.name.localeCompare(b.name)));
  const body = `<header><p class="muted">fuselab</p><h1>Experiments</h1>` +
    `<p class="lead">${rows.length} experiment${
      rows.length === 1 ? "" : "s"
    } in this results folder, ` +
    `newest first. Headline: the best variant on the primary metric.</p></header>` +
    table(
      "experiments",
      ["experiment", "date", "description", "runs", "headline"],
      rows.map((r) =>
        r.cells.map((html, i) => ({
          html,
          cls: i === 1 ? "nowrap" : i === 3 ? "text nowrap" : "text",
        }))
      ),
    ) +
    `<footer>Built by <code>deno task report</code> from the results folders alone.</footer>`;
  const path = join(resultsRoot, "index.html");
  await writeAtomic(path, page("fuselab experiments", body));
  return path;
}
