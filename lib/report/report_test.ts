import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import type { Manifest, MetricsLine, StatusRecord } from "../contract/results.ts";
import { main as reportMain } from "../cli/report.ts";
import { buildIndex, buildReport, loadResults, renderReport } from "./mod.ts";
import { writeSyntheticExperiment } from "./synthetic.ts";
import { comparisonsOf } from "./analysis.ts";

// t quantiles (mpmath, 30 digits): t(0.975; 1) and t(0.975; 2)
const T1 = 12.7062047361747;
const T2 = 4.30265272974946;

const close = (a: number, b: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

interface Cell {
  textContent: string;
  innerHTML?: string;
  getAttribute(name: string): string | null;
}
interface Doc {
  querySelector(sel: string): (Cell & { querySelectorAll(sel: string): Cell[][] }) | null;
  querySelectorAll(sel: string): Cell[];
}

function doc(html: string): Doc {
  return (parseHTML(html) as unknown as { document: Doc }).document;
}

/** Column index by header text of a table. */
function columns(d: Doc, id: string): Record<string, number> {
  const heads = [...d.querySelectorAll(`#${id} th`)].map((c) => c.textContent);
  return Object.fromEntries(heads.map((h, i) => [h, i]));
}

/** Rows of a table by id: for each row, its cells. */
function rows(d: Doc, id: string): Cell[][] {
  const trs = d.querySelectorAll(`#${id} tbody tr`) as unknown as {
    querySelectorAll(s: string): Cell[];
  }[];
  assert.ok(trs.length > 0, `table #${id} has rows`);
  return [...trs].map((tr) => [...tr.querySelectorAll("td")]);
}

function num(c: Cell, attr: string): number {
  const v = c.getAttribute(attr);
  assert.ok(v !== null && v !== "", `attribute ${attr} present`);
  return Number(v);
}

/**
 * A results folder with hand-picked numbers: three variants × seeds 1–3;
 * `learned` seed 3 diverged (its final value must not count), `none` seed 1 failed.
 * `extra` goes into the manifest (e.g. the correction).
 */
async function writeKnown(dir: string, extra: Partial<Manifest> = {}) {
  const finals: Record<string, (number | null)[]> = {
    sinusoid: [0.7, 0.75, 0.8],
    learned: [0.9, 0.8, 0.1],
    none: [null, 0.5, 0.52],
  };
  const runs = Object.keys(finals).flatMap((p, i) =>
    [1, 2, 3].map((seed, j) => ({
      id: `${p}-s${seed}`,
      index: 3 * i + j,
      variant: { "model.positional": p },
      variantKey: `model.positional=${p}`,
      seed,
    }))
  );
  const manifest: Manifest = {
    experiment: "known",
    file: "experiments/known.ts",
    description: "Known numbers",
    axes: { "model.positional": ["sinusoid", "learned", "none"] },
    seeds: [1, 2, 3],
    primary: { metric: "exact_match", higherIsBetter: true },
    compare: [],
    baseline: "model.positional=sinusoid",
    runs,
    ...extra,
  };
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
  for (const r of runs) {
    const p = r.variant["model.positional"];
    const value = finals[p][r.seed - 1];
    const rdir = `${dir}/runs/${r.id}`;
    await Deno.mkdir(rdir, { recursive: true });
    const diverged = p === "learned" && r.seed === 3;
    const failed = value === null;
    const status: StatusRecord = failed
      ? {
        state: "failed",
        step: 3,
        error: "Error: boom at step 3",
        startedAt: "2026-01-02T03:00:00Z",
      }
      : {
        state: diverged ? "diverged" : "done",
        startedAt: `2026-01-02T03:0${r.index}:00Z`,
        endedAt: `2026-01-02T03:0${r.index}:30Z`,
        trainSeconds: 30,
        step: diverged ? 77 : 100,
        totalSteps: 100,
        final: {
          "test/exact_match": value!,
          "val/exact_match": value! - 0.05,
          "test/loss": 1 - value!,
        },
        parameters: 1234,
        throughput: 500,
        ...(diverged ? { error: "train/loss became NaN at step 77" } : {}),
      };
    await Deno.writeTextFile(`${rdir}/status.json`, JSON.stringify(status));
    const lines: MetricsLine[] = [];
    for (let step = 10; step <= (failed ? 0 : diverged ? 70 : 100); step += 10) {
      lines.push({ step, epoch: 0, split: "train", time: step, loss: 3 - step / 50 });
      if (step % 50 === 0) {
        lines.push({
          step,
          epoch: step / 50,
          split: "val",
          time: step,
          exact_match: value! * step / 100,
        });
      }
    }
    await Deno.writeTextFile(
      `${rdir}/metrics.jsonl`,
      lines.map((l) => JSON.stringify(l)).join("\n"),
    );
  }
}

async function files(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out.set(e.name, await Deno.readFile(`${dir}/${e.name}`));
  }
  return out;
}

/** The final primary metric of the known results: mean, std (n − 1), 95% t-interval cut at [0, 1]. */
function checkPrimaryTable(d: Doc): void {
  // diverged/failed runs excluded
  const prim = rows(d, "primary-table");
  assert.deepEqual(prim.map((r) => r[0].textContent), ["sinusoid", "learned", "none"]);
  const expect = [
    { n: 3, mean: 0.75, std: 0.05, half: T2 * 0.05 / Math.sqrt(3) },
    { n: 2, mean: 0.85, std: Math.SQRT2 * 0.05, half: T1 * Math.SQRT2 * 0.05 / Math.SQRT2 },
    { n: 2, mean: 0.51, std: Math.SQRT2 * 0.01, half: T1 * 0.01 },
  ];
  prim.forEach((r, i) => {
    const e = expect[i];
    assert.equal(num(r[1], "data-n"), e.n);
    close(num(r[2], "data-value"), e.mean, `mean ${i}`);
    close(num(r[3], "data-value"), e.std, `std ${i}`);
    // exact_match lives in [0, 1]: the t-interval is cut there
    close(num(r[4], "data-lo"), Math.max(0, e.mean - e.half), `lo ${i}`, 1e-9);
    close(num(r[4], "data-hi"), Math.min(1, e.mean + e.half), `hi ${i}`, 1e-9);
  });
  assert.equal(prim[0][4].textContent, "[0.626, 0.874]");
  // learned: 0.85 ± 0.635 reaches 1.49; printed cut at 1
  assert.equal(prim[1][4].textContent, "[0.215, 1.00]");
  for (const r of prim) {
    assert.ok(num(r[4], "data-lo") >= 0 && num(r[4], "data-hi") <= 1, "interval inside [0, 1]");
  }
  assert.match(d.querySelector("#final")!.textContent, /cut at the range \[0, 1\] where/);
  assert.match(prim[1][1].textContent, /^2 \(of 3: 1 diverged\)$/);
  assert.match(prim[2][1].textContent, /^2 \(of 3: 1 failed\)$/);
}

Deno.test("report tables and intervals equal hand-computed values", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    // no family-wise correction here: the raw p-values decide (Holm is tested below)
    await writeKnown(`${root}/known`, { correction: "none" });
    const htmlPath = await buildReport(`${root}/known`);
    assert.equal(htmlPath, `${root}/known/report.html`);
    const html = await Deno.readTextFile(htmlPath);
    const d = doc(html);

    checkPrimaryTable(d);

    // every metric as mean ± std (n)
    const met = rows(d, "metrics-table");
    const heads = [...d.querySelectorAll("#metrics-table th")].map((c) => c.textContent);
    assert.deepEqual(heads.slice(0, 3), ["variant", "runs counted", "test/exact_match ↑"]);
    assert.ok(heads.includes("test/loss ↓") && heads.includes("val/exact_match ↑"));
    assert.equal(met[1][2].textContent, "0.850 ± 0.071 (2)");
    assert.equal(met[0][2].textContent, "0.750 ± 0.050 (3)");
    assert.equal(met[1][1].textContent, "2 of 3 (1 diverged)");
    const md = d.querySelector("#table-markdown")!.textContent.split("\n");
    assert.equal(md[0], "| variant | n | test/exact_match | test/loss | val/exact_match |");
    assert.equal(md[3], "| learned | 2 | 0.850 ± 0.071 | 0.150 ± 0.071 | 0.800 ± 0.071 |");
    const tex = d.querySelector("#table-latex")!.textContent.split("\n");
    assert.equal(tex[0], "\\begin{tabular}{lrrrr}");
    assert.equal(
      tex[1],
      "variant & $n$ & test/exact\\_match & test/loss & val/exact\\_match \\\\ \\hline",
    );
    assert.equal(
      tex[2],
      "sinusoid & 3 & $0.750 \\pm 0.050$ & $0.250 \\pm 0.050$ & $0.700 \\pm 0.050$ \\\\",
    );
    const loss = met[0].find((c) => c.getAttribute("data-metric") === "test/loss")!;
    close(num(loss, "data-mean"), 0.25, "test/loss mean");

    // paired comparison against the baseline, by seed
    const paired = rows(d, "paired-table");
    const col = columns(d, "paired-table");
    assert.equal(paired[0][0].textContent, "learned");
    assert.equal(num(paired[0][col.pairs], "data-n"), 2);
    close(num(paired[0][col["mean difference"]], "data-value"), 0.125, "learned diff");
    const learnedHalf = T1 * 0.15 / Math.SQRT2 / Math.SQRT2;
    close(num(paired[0][col["95% interval"]], "data-half"), learnedHalf, "learned half", 1e-8);
    // a difference of [0, 1] values lies in [−1, 1]: 0.125 + 0.953 is cut at 1
    close(num(paired[0][col["95% interval"]], "data-lo"), 0.125 - learnedHalf, "lo", 1e-8);
    assert.equal(num(paired[0][col["95% interval"]], "data-hi"), 1);
    // t = 0.125 / (s/√2) with s = 0.15/√2 → 5/3; df = 1: p = 1 − 2·atan(5/3)/π
    close(num(paired[0][col.t], "data-value"), 5 / 3, "t", 1e-9);
    close(num(paired[0][col.d_z], "data-value"), 5 / 3 / Math.SQRT2, "d_z = t/√n", 1e-9);
    const pLearned = 1 - 2 * Math.atan(5 / 3) / Math.PI;
    close(num(paired[0][col["p (paired t)"]], "data-value"), pLearned, "p", 1e-9);
    close(num(paired[0][col["p (sign-flip)"]], "data-value"), 0.5, "sign-flip p");
    assert.equal(paired[0][col.verdict].textContent, "not distinguishable");
    // seeds for 80% power at d_z = 1.1785, α = 0.05: statsmodels' TTestPower().solve_power
    // gives 7.78 pairs → 8
    assert.equal(num(paired[0][col["seeds for 80% power"]], "data-value"), 8);
    // none − sinusoid on seeds 2, 3: (−0.25, −0.28)
    close(num(paired[1][col["mean difference"]], "data-value"), -0.265, "none diff");
    close(num(paired[1][col.t], "data-value"), -0.265 / 0.015, "none t", 1e-7);
    assert.equal(paired[1][col.verdict].textContent, "worse");
    assert.equal(paired[1][col["seeds for 80% power"]].textContent, "–");
    // without a correction the "p used" column is the raw p
    assert.ok("p used (no correction, 2 comparisons)" in col);
    close(num(paired[0][col["p used (no correction, 2 comparisons)"]], "data-value"), pLearned, "");
    const verdicts = [...d.querySelectorAll("#summary li")].map((c) => c.textContent);
    assert.equal(
      verdicts[0],
      "learned vs sinusoid: +0.13 [−0.83, +1.00] exact_match, not distinguishable at 2 seeds " +
        "(paired t p = 0.34); about 8 seeds would settle this",
    );
    assert.match(
      verdicts[1],
      /^none vs sinusoid: −0\.27 ± 0\.19 exact_match, none worse \(paired t p = 0\.036, 2 seeds\)$/,
    );
    assert.match(d.querySelector("#summary")!.textContent, /Best on test\/exact_match: learned/);

    // failed and diverged runs are listed with error and step
    const probs = rows(d, "problems-table");
    const byId = new Map(probs.map((r) => [r[0].textContent, r]));
    assert.equal(byId.get("learned-s3")![3].textContent, "diverged");
    assert.equal(byId.get("learned-s3")![4].textContent, "77");
    assert.match(byId.get("learned-s3")![5].textContent, /NaN at step 77/);
    assert.equal(byId.get("none-s1")![3].textContent, "failed");
    assert.match(byId.get("none-s1")![5].textContent, /boom at step 3/);
    assert.equal(rows(d, "cost-table").length, 9);

    // sections and charts; every chart exported as SVG and PNG; no scripts, no canvas
    for (const id of ["question", "curves", "final", "effects", "insight", "cost", "problems"]) {
      assert.ok(d.querySelector(`#${id}`), `section #${id}`);
    }
    const figs = [...d.querySelectorAll("figure")].map((f) => f.getAttribute("id")!.slice(4));
    for (const f of ["curve-train-loss", "curve-val-exact-match", "final-primary", "paired"]) {
      assert.ok(figs.includes(f), `figure ${f}`);
    }
    assert.ok(!/<script|<canvas/i.test(html));
    for (const f of figs) {
      const svg = await Deno.readTextFile(`${root}/known/charts/${f}.svg`);
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      const png = await Deno.readFile(`${root}/known/charts/${f}.png`);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], `${f}.png is a PNG`);
    }

    // byte-identical rebuild: same folder rebuilt, and a fresh copy built from scratch
    const before = await files(`${root}/known/charts`);
    assert.equal(await buildReport(`${root}/known`), htmlPath);
    assert.equal(await Deno.readTextFile(htmlPath), html);
    await writeKnown(`${root}/copy/known`, { correction: "none" });
    await buildReport(`${root}/copy/known`);
    assert.equal(await Deno.readTextFile(`${root}/copy/known/report.html`), html);
    const after = await files(`${root}/copy/known/charts`);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [name, bytes] of before) assert.deepEqual(after.get(name), bytes, name);

    // the index lists it with states and the headline
    const index = await Deno.readTextFile(await buildIndex(root));
    const ix = rows(doc(index), "experiments");
    assert.equal(ix.length, 1);
    assert.match(ix[0][0].innerHTML ?? "", /href="known\/report.html"/);
    assert.equal(ix[0][1].textContent, "2026-01-02 03:08 UTC");
    assert.equal(ix[0][3].textContent, "7 done, 1 failed, 1 diverged");
    assert.match(ix[0][4].textContent, /^learned: 0\.850 ± 0\.071 test\/exact_match/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("every chart section of a realistic experiment renders, without canvas", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    await writeSyntheticExperiment(`${root}/pe_ablation`);
    const data = await loadResults(`${root}/pe_ablation`);
    const { html, charts } = renderReport(data);
    const ids = charts.map((c) => c.id);
    for (
      const id of [
        "curve-train-loss",
        "curve-val-loss",
        "curve-val-exact-match",
        "final-primary",
        "effect-model-positional",
        "effect-model-heads",
        "heatmap-model-positional-model-heads",
        "paired",
        "positional-0",
        "similarity-0",
        "positional-2",
        "attention-0",
        "gates-0",
        "length-exact-match",
        "position-token-accuracy",
      ]
    ) assert.ok(ids.includes(id), `chart ${id}`);
    // the sinusoid table is identical across heads: drawn once, then named
    assert.ok(!ids.includes("positional-1"));
    assert.match(html, /the same sinusoid table as sinusoid · heads=2/);
    // continuous legends are our own SVG gradients
    const heat = charts.find((c) => c.id.startsWith("heatmap"))!.svg;
    assert.match(heat, /<linearGradient id="ramp-heatmap-model-positional-model-heads"/);
    assert.ok(!/<canvas|<script/i.test(html));
    assert.equal(new Set(ids).size, ids.length, "chart ids are unique");
    // rendering is pure: the same input gives the same page
    assert.equal(renderReport(await loadResults(`${root}/pe_ablation`)).html, html);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the facts name fuselab's settings when runs had any (FUSELAB_* variables, switches)", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    await writeSyntheticExperiment(`${root}/pe_ablation`);
    const before = renderReport(await loadResults(`${root}/pe_ablation`)).html;
    assert.ok(!before.includes(">Settings<"), "no settings: no row");
    const runs = [...Deno.readDirSync(`${root}/pe_ablation/runs`)].map((e) => e.name).sort();
    const envPath = `${root}/pe_ablation/runs/${runs[0]}/env.json`;
    const env = JSON.parse(await Deno.readTextFile(envPath));
    env.settings = { FUSELAB_BLAS_THREADS: "4", FUSELAB_WEBGPU_MATMUL_TN: "1" };
    await Deno.writeTextFile(envPath, JSON.stringify(env));
    const html = renderReport(await loadResults(`${root}/pe_ablation`)).html;
    assert.ok(html.includes(">Settings<"));
    assert.ok(html.includes("<code>FUSELAB_BLAS_THREADS=4 FUSELAB_WEBGPU_MATMUL_TN=1</code>"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("unusable results give clear errors; damaged run files are listed", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    await assert.rejects(
      () => buildReport(`${root}/nothing`),
      /nothing\/manifest\.json: not found.*deno task exp/,
    );
    await Deno.mkdir(`${root}/bad`);
    await Deno.writeTextFile(`${root}/bad/manifest.json`, `{"experiment": "bad", "axes": {}}`);
    await assert.rejects(() => buildReport(`${root}/bad`), /bad\/manifest\.json: field "seeds"/);
    await writeKnown(`${root}/known`);
    await Deno.writeTextFile(`${root}/known/runs/sinusoid-s1/status.json`, "{ not json");
    await Deno.writeTextFile(`${root}/known/runs/sinusoid-s2/metrics.jsonl`, "{}\nnope\n");
    const d = doc(renderReport(await loadResults(`${root}/known`)).html);
    const text = d.querySelector("#problems")!.textContent;
    assert.match(text, /sinusoid-s1\/status\.json: invalid JSON/);
    assert.match(text, /sinusoid-s2\/metrics\.jsonl:2: skipped/);
    // the damaged run shows as pending and does not count
    assert.equal(num(rows(d, "primary-table")[0][1], "data-n"), 2);
    // a plan with no run started yet: tables and notes, no empty charts
    await Deno.mkdir(`${root}/planned`);
    await Deno.copyFile(`${root}/known/manifest.json`, `${root}/planned/manifest.json`);
    const planned = renderReport(await loadResults(`${root}/planned`));
    assert.deepEqual(planned.charts, []);
    const p = doc(planned.html);
    assert.match(
      p.querySelector("#final")!.textContent,
      /No run is done with test\/exact_match yet/,
    );
    assert.equal(rows(p, "problems-table").length, 9);
    assert.match(
      p.querySelector("#summary")!.textContent,
      /no seed where both finished with a \S+ value, no comparison/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("deno task report: by experiment file, by folder, and a clear error", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  const log = console.log;
  const err = console.error;
  const errors: string[] = [];
  console.log = () => {};
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    await writeKnown(`${root}/known`);
    assert.equal(await reportMain(["experiments/known.ts", "--results", root]), 0);
    assert.ok((await Deno.stat(`${root}/known/report.html`)).isFile);
    assert.ok((await Deno.stat(`${root}/index.html`)).isFile);
    await Deno.remove(`${root}/index.html`);
    assert.equal(await reportMain([`${root}/known`]), 0);
    assert.ok((await Deno.stat(`${root}/index.html`)).isFile);
    assert.equal(await reportMain(["experiments/missing.ts", "--results", root]), 1);
    assert.match(errors.join("\n"), /experiments\/missing\.ts: no results found.*deno task exp/);
    assert.equal(await reportMain(["--bogus"]), 2);
  } finally {
    console.log = log;
    console.error = err;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("verdicts: zero-spread differences are judged by the sign-flip test", async () => {
  const { verdict } = await import("./report.ts");
  const { judge } = await import("./analysis.ts");
  const { pairedTest } = await import("./stats.ts");
  const v = (label: string) => ({ key: label, label, values: {}, runs: [] });
  const cmp = (a: number[], b: number[]) =>
    judge([{
      variant: v("sum"),
      baseline: v("concat"),
      seeds: a.map((_, i) => i),
      test: pairedTest(a, b),
    }])[0];
  assert.equal(
    verdict(cmp([0.9, 0.8], [0.902, 0.802]), "accuracy", true),
    "sum vs concat: −0.00200 accuracy at each of 2 seeds (no spread, so no t-interval), " +
      "not distinguishable at 2 seeds (sign-flip p = 0.50); if every further seed moved the " +
      "same way, 6 seeds would settle this",
  );
  // six seeds all lower by the same amount: sign-flip p = 2/64
  const six = cmp(
    [1, 2, 3, 4, 5, 6].map((x) => x / 10),
    [1, 2, 3, 4, 5, 6].map((x) => x / 10 + 0.25),
  );
  assert.match(
    verdict(six, "accuracy", true),
    /at each of 6 seeds .* sum worse \(sign-flip p = 0\.031\)$/,
  );
  assert.match(verdict(six, "loss", false), /sum better/);
});

Deno.test("Holm-adjusted p-values decide the verdicts and the table states the family", async () => {
  const root = await Deno.makeTempDir({ prefix: "fuselab-report-" });
  try {
    await writeKnown(`${root}/known`); // no correction in the manifest: Holm by default
    const data = await loadResults(`${root}/known`);
    const d = doc(renderReport(data).html);
    const paired = rows(d, "paired-table");
    const col = columns(d, "paired-table");
    const adj = col["p adjusted (Holm, 2 comparisons)"];
    assert.ok(adj !== undefined, "the adjusted column names the correction and the family");
    // raw p: learned 1 − 2·atan(5/3)/π = 0.344, none 1 − 2·atan(17.67)/π = 0.036 (df = 1).
    // Holm: the smaller times 2, then the larger times 1, kept increasing.
    const pLearned = 1 - 2 * Math.atan(5 / 3) / Math.PI;
    const pNone = 1 - 2 * Math.atan(0.265 / 0.015) / Math.PI;
    close(num(paired[1][adj], "data-value"), 2 * pNone, "none Holm", 1e-9);
    close(num(paired[1][adj], "data-raw"), pNone, "none raw", 1e-9);
    close(num(paired[0][adj], "data-value"), Math.max(2 * pNone, pLearned), "learned Holm", 1e-9);
    // 0.036 alone would be "worse"; adjusted 0.072 is not distinguishable
    assert.equal(paired[1][col.verdict].textContent, "not distinguishable");
    // the same numbers for scripts: comparisonsOf gives what the page shows
    const api = comparisonsOf(data);
    assert.deepEqual(api.map((c) => c.variant.label), ["learned", "none"]);
    close(api[1].pAdjusted, 2 * pNone, "api Holm", 1e-12);
    assert.equal(api[1].family, 2);
    assert.ok(!api[1].distinguishable);
    assert.equal(api[0].test.hi, 1, "the difference's interval is cut at 1 there too");
    // seeds: d_z = −0.265/(0.03/√2) = −12.49 at α = 0.05/2: solve_power gives 2.23 → 3;
    // learned d_z = 1.1785 at α = 0.025: 9.52 → 10 (statsmodels TTestPower, two-sided)
    assert.equal(num(paired[1][col["seeds for 80% power"]], "data-value"), 3);
    assert.equal(num(paired[0][col["seeds for 80% power"]], "data-value"), 10);
    const verdicts = [...d.querySelectorAll("#summary li")].map((c) => c.textContent);
    assert.equal(
      verdicts[1],
      "none vs sinusoid: −0.27 ± 0.19 exact_match, not distinguishable at 2 seeds " +
        "(paired t p = 0.036, Holm-adjusted p = 0.072 over 2 comparisons); " +
        "about 3 seeds would settle this",
    );
    const summary = d.querySelector("#summary")!.textContent;
    assert.match(summary, /2 comparisons with the baseline; verdicts use Holm–Bonferroni/);
    // seeds 1–3 are a list, and `none` lacks one pair (a failed run): add 1 seed
    assert.match(summary, /More seeds: add 1 seed to the seeds list in experiments\/known\.ts/);
    assert.match(summary, /The 7 runs already done are kept/);
    // a manifest naming an unknown correction is refused with the fix
    const m = JSON.parse(await Deno.readTextFile(`${root}/known/manifest.json`));
    await Deno.writeTextFile(
      `${root}/known/manifest.json`,
      JSON.stringify({ ...m, correction: "holmes" }),
    );
    await assert.rejects(
      () => loadResults(`${root}/known`),
      /manifest\.json: field "correction" must be one of holm, bonferroni, none; rerun/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("identical values: no t-test, a verdict that says so, and no seed count", async () => {
  const { verdict, shortVerdict } = await import("./report.ts");
  const { judge } = await import("./analysis.ts");
  const { pairedTest } = await import("./stats.ts");
  const v = (label: string) => ({ key: label, label, values: {}, runs: [] });
  const [c] = judge([{
    variant: v("b"),
    baseline: v("a"),
    seeds: [0, 1, 2],
    test: pairedTest([0.5, 1, 0.25], [0.5, 1, 0.25]),
  }]);
  assert.ok(Number.isNaN(c.test.pT) && Number.isNaN(c.test.t) && Number.isNaN(c.p));
  assert.equal(c.seedsNeeded, Infinity);
  assert.equal(shortVerdict(c, true), "identical values");
  assert.equal(
    verdict(c, "accuracy", true),
    "b vs a: identical accuracy at each of 3 seeds (every paired difference is 0, so the " +
      "t-test is undefined): the variants gave the same values",
  );
});
