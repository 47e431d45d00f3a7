/**
 * Live pages: the banner and the refresh go in, the page is otherwise the
 * report's own, no chart file or export is written, and a plain rebuild
 * afterwards gives the page `renderReport` gives, without them.
 */
import assert from "node:assert/strict";
import { buildLiveIndex, buildLiveReport, liveBanner, type LiveState, markLive } from "./live.ts";
import { loadResults } from "./load.ts";
import { buildReport, renderReport } from "./report.ts";
import { writeSyntheticExperiment } from "./synthetic.ts";

const STATE: LiveState = {
  at: "2026-12-06T18:08:48.123Z",
  total: 12,
  finished: 5,
  running: [{ label: "learned seed 1", step: 50, totalSteps: 200, phase: "training" }, {
    label: "sinusoid seed 2",
  }],
  pending: 5,
  etaS: 125,
  refreshS: 10,
};

Deno.test("liveBanner says what is finished, running and pending, and the ETA", () => {
  const b = liveBanner(STATE);
  assert.match(
    b,
    /Sweep in progress\.<\/strong> 5 of 12 runs finished, 2 running, 5 pending; about 2 min 5 s left \(as of 2026-12-06 18:08:48 UTC\)/,
  );
  assert.match(
    b,
    /<li>learned seed 1: step 50 of 200 \(25%\)<\/li><li>sinusoid seed 2: starting<\/li>/,
  );
  assert.match(b, /reloads itself every 10 s/);
  assert.match(liveBanner({ ...STATE, etaS: undefined }), /estimated once a run has progressed/);
});

Deno.test("markLive adds a refresh and the banner, and refuses a page it does not know", () => {
  const page =
    `<!doctype html>\n<head>\n<meta charset="utf-8">\n<title>x</title>\n</head>\n<body>\n<main>\n<p>body</p>\n</main>\n</body>\n`;
  const live = markLive(page, "<div>BANNER</div>", 7);
  assert.equal(
    live,
    `<!doctype html>\n<head>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="7">\n` +
      `<title>x</title>\n</head>\n<body>\n<main>\n<div>BANNER</div>\n<p>body</p>\n</main>\n</body>\n`,
  );
  assert.throws(() => markLive("<p>no page</p>", "b", 7), /not a report page/);
});

Deno.test("a live rebuild writes only the pages; the final rebuild drops banner and refresh", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-live-" });
  const dir = `${root}/pe`;
  await writeSyntheticExperiment(dir);
  await buildLiveReport(dir, STATE);
  await buildLiveIndex(root, dir, STATE);
  const html = await Deno.readTextFile(`${dir}/report.html`);
  const plain = renderReport(await loadResults(dir)).html;
  assert.equal(html, markLive(plain, liveBanner(STATE), 10));
  assert.match(html, /<meta http-equiv="refresh" content="10">/);
  const index = await Deno.readTextFile(`${root}/index.html`);
  assert.match(index, /<a href="pe\/report.html">pe<\/a>: Sweep in progress/);
  assert.match(index, /<meta http-equiv="refresh" content="10">/);
  for (const name of ["charts", "runs.csv", "metrics.csv"]) {
    await assert.rejects(Deno.stat(`${dir}/${name}`), Deno.errors.NotFound, name);
  }
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp")),
    [],
  );
  await buildReport(dir);
  assert.equal(await Deno.readTextFile(`${dir}/report.html`), plain);
  await Deno.remove(root, { recursive: true });
});
