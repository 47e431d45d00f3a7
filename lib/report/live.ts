/**
 * The live report: while a sweep runs, `report.html` and the results index
 * are the finished pages plus an "in progress" banner (runs finished,
 * running and pending, an ETA) and a `<meta http-equiv="refresh">` that
 * reloads them until the sweep ends. The sweep's last rebuild is the plain
 * `buildReport`, so the finished page is the one `deno task report` builds.
 *
 * A live rebuild writes `report.html` and `index.html` only (charts are
 * inline in the page; `charts/*.svg|png` and the CSV exports come with the
 * final build), each through a temporary file and a rename.
 *
 * @module
 */
import { esc } from "./format.ts";
import { buildIndex } from "./index_page.ts";
import { join, loadResults } from "./load.ts";
import { renderReport } from "./report.ts";

/** Where a sweep stands, as the sweep process sees it. */
export interface LiveState {
  /** When this was taken (ISO time; shown on the page). */
  at: string;
  /** Runs this sweep covers (skipped ones included). */
  total: number;
  /** Runs finished: done, failed or diverged (before or during this sweep). */
  finished: number;
  /** Runs training now, with their progress. */
  running: { label: string; step?: number; totalSteps?: number; phase?: string }[];
  /** Runs waiting for a process. */
  pending: number;
  /** Estimated seconds until the sweep ends; undefined before there is a basis. */
  etaS?: number;
  /** Seconds between reloads of the page. */
  refreshS: number;
}

function duration(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : m ? `${m} min ${sec} s` : `${sec} s`;
}

/** The banner's HTML: what is finished, running and pending, and the ETA. */
export function liveBanner(state: LiveState, experiment?: { name: string; href: string }): string {
  const time = state.at.replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
  const eta = state.etaS === undefined
    ? "the time left is estimated once a run has progressed"
    : `about ${esc(duration(state.etaS))} left`;
  const running = state.running.map((r) =>
    `<li>${esc(r.label)}${
      r.step !== undefined && r.totalSteps
        ? `: step ${r.step} of ${r.totalSteps} (${Math.floor((100 * r.step) / r.totalSteps)}%)`
        : ": starting"
    }${r.phase === "evaluating" ? ", evaluating" : ""}</li>`
  ).join("");
  const name = experiment ? `<a href="${esc(experiment.href)}">${esc(experiment.name)}</a>: ` : "";
  return `<div class="live" id="live" style="background:#fff8e1;border-left:4px solid #f2a900;` +
    `padding:10px 16px;margin:8px 0 16px"><strong>${name}Sweep in progress.</strong> ` +
    `${state.finished} of ${state.total} runs finished, ${state.running.length} running, ` +
    `${state.pending} pending; ${eta} (as of ${esc(time)}).` +
    (running ? `<ul style="margin:4px 0">${running}</ul>` : "") +
    `<p class="note" style="margin:4px 0 0">This page reloads itself every ${state.refreshS} s ` +
    `while the sweep runs; numbers and charts cover what has been recorded so far (running runs' ` +
    `curves are partial, and only finished runs count in finals). If the time above stops ` +
    `moving, the sweep has stopped: <code>deno task report</code> rebuilds the page.</p></div>`;
}

/**
 * Marks a page live: a refresh every `refreshS` seconds in its head and the
 * banner first in its `<main>`. Throws when the page lacks either place.
 */
export function markLive(html: string, banner: string, refreshS: number): string {
  const head = '<meta charset="utf-8">\n';
  const main = "<main>\n";
  if (!html.includes(head) || !html.includes(main)) {
    throw new Error("markLive: the page has no <meta charset> line or <main> (not a report page)");
  }
  return html.replace(head, `${head}<meta http-equiv="refresh" content="${refreshS}">\n`)
    .replace(main, `${main}${banner}\n`);
}

/** Writes a file through a temporary name of its own and a rename. */
async function writeLive(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-live-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Rebuilds `<experimentDir>/report.html` as a live page; returns its path. */
export async function buildLiveReport(experimentDir: string, state: LiveState): Promise<string> {
  const data = await loadResults(experimentDir);
  const { html } = renderReport(data);
  const path = join(data.dir, "report.html");
  await writeLive(path, markLive(html, liveBanner(state), state.refreshS));
  return path;
}

/**
 * Rebuilds `<resultsRoot>/index.html` with the live banner of one
 * experiment; returns its path.
 */
export async function buildLiveIndex(
  resultsRoot: string,
  experimentDir: string,
  state: LiveState,
): Promise<string> {
  const path = await buildIndex(resultsRoot);
  const name = experimentDir.replace(/\/+$/, "").split("/").pop()!;
  const banner = liveBanner(state, {
    name,
    href: `${encodeURIComponent(name)}/report.html`,
  });
  await writeLive(path, markLive(await Deno.readTextFile(path), banner, state.refreshS));
  return path;
}
