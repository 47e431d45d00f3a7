/**
 * `buildReport(experimentDir)`: one experiment's `report.html` (inline SVG,
 * no scripts, opens from disk) and every chart as `charts/<id>.svg|png`,
 * rebuilt from the results folder alone. Nothing here reads the clock, so a
 * rebuild of unchanged results is byte-identical.
 *
 * @module
 */
import type { RunState } from "../experiment/results.ts";
import {
  axisEffect,
  axisLeaf,
  compareToBaseline,
  type Comparison,
  earliestTime,
  higherIsBetter,
  labelOf,
  latestTime,
  metricKeys,
  missingNote,
  primaryKey,
  stateCounts,
  twoAxisGrid,
  valueText,
  type Variant,
  variantMetric,
  variantsOf,
} from "./analysis.ts";
import { type Chart, curvesChart, effectChart, gridHeatmap, intervalChart } from "./charts.ts";
import { csvFiles } from "./csv.ts";
import {
  curveSeries,
  effectRows,
  finalRows,
  heatmapAxes,
  isProportion,
  pairedRows,
} from "./figures.ts";
import { insightSection } from "./insight.ts";
import {
  esc,
  fmt,
  fmtCi,
  fmtDate,
  fmtDuration,
  fmtInt,
  fmtP,
  fmtPm,
  fmtSigned,
  fmtWith,
  raw,
} from "./format.ts";
import { type Cell, figure, page, slug, table } from "./html.ts";
import { type ExperimentData, join, loadResults } from "./load.ts";
import { svgToPng } from "./png.ts";

/** Writes a file through a temporary name and a rename, skipping identical content. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const old = await Deno.readFile(path);
    if (old.length === bytes.length && old.every((b, i) => b === bytes[i])) return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

function stateBadge(state: RunState | string): string {
  return `<span class="state-${esc(state)}">${esc(state)}</span>`;
}

/** The metric's bare name (`test/exact_match` → `exact_match`). */
function bare(key: string): string {
  return key.split("/").pop() ?? key;
}

/** The page and its charts, before anything is written. */
export interface RenderedReport {
  /** The whole `report.html`. */
  html: string;
  /** Every chart on the page, in page order. */
  charts: Chart[];
}

/** Builds the report page and charts of a loaded experiment (pure: no file access). */
export function renderReport(data: ExperimentData): RenderedReport {
  const m = data.manifest;
  const variants = variantsOf(data);
  const labels = variants.map((v) => v.label);
  const pKey = primaryKey(data);
  const pName = bare(pKey);
  const hib = m.primary.higherIsBetter;
  const axes = Object.keys(m.axes);
  const charts: Chart[] = [];
  const add = (c: Chart) => {
    charts.push(c);
    return c;
  };
  const baseline = variants.find((v) => v.key === m.baseline) ?? variants[0];
  const excludedRuns = data.runs.filter((r) => ["failed", "diverged"].includes(r.status.state));
  const excludedNote = excludedRuns.length
    ? ` Excluded: ${
      excludedRuns.map((r) =>
        `${esc(labelOf(variants, r))} seed ${r.run.seed} (${esc(r.status.state)})`
      ).join(", ")
    }, see <a href="#problems">failed and diverged runs</a>.`
    : "";

  // ---- the question
  const envs = data.runs.map((r) => r.env).filter((e) => e !== undefined);
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const backends = uniq(envs.map((e) => `${e.backend?.name ?? "?"} (tfjs ${e.tfjs ?? "?"})`));
  const versions = uniq(envs.map((e) => e.codeVersion ?? "unknown"));
  const machines = uniq(envs.map((e) => `${e.os}/${e.arch}, ${e.cpus} CPUs, Deno ${e.deno}`));
  // fuselab's FUSELAB_* settings, one line per distinct set (none: no row).
  const settings = uniq(
    envs.map((e) => Object.entries(e.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(" ")),
  ).filter((x) => x !== "");
  const counts = stateCounts(data);
  const first = earliestTime(data);
  const last = latestTime(data);
  const facts: [string, string][] = [
    ["Experiment file", m.file ? `<code>${esc(m.file)}</code>` : "–"],
    ...axes.map((a): [string, string] => [
      `Axis <code>${esc(a)}</code>`,
      (m.axes[a] ?? []).map((v) => `<code>${esc(valueText(v))}</code>`).join(", "),
    ]),
    ["Seeds", m.seeds.map((s) => esc(s)).join(", ") + ` (${m.seeds.length})`],
    [
      "Primary metric",
      `<code>${esc(pKey)}</code>, ${hib ? "higher" : "lower"} is better`,
    ],
    ["Baseline", baseline ? esc(baseline.label) : "–"],
    [
      "Runs",
      `${data.runs.length} planned: ` +
      counts.map(([s, n]) => `${n} ${stateBadge(s)}`).join(", "),
    ],
    ["Backend", backends.length ? backends.map(esc).join("; ") : "– (no env.json)"],
    [
      "Code version",
      versions.length ? versions.map((v) => `<code>${esc(v)}</code>`).join(", ") : "–",
    ],
    ["Machine", machines.length ? machines.map(esc).join("; ") : "–"],
    ...(settings.length
      ? [["Settings", settings.map((x) => `<code>${esc(x)}</code>`).join("; ")] as [string, string]]
      : []),
    ["Dates", first || last ? `${fmtDate(first)} – ${fmtDate(last)}` : "–"],
  ];

  // ---- final metrics per variant
  const primaryByVariant = variants.map((v) => variantMetric(v, pKey));
  const comparisons = baseline ? compareToBaseline(variants, baseline, pKey) : [];
  const verdicts = comparisons.map((c) => verdict(c, pName, hib));
  const best =
    primaryByVariant.filter((x) => x.values.length).sort((a, b) =>
      hib ? b.summary.mean - a.summary.mean : a.summary.mean - b.summary.mean
    )[0];

  const withValues = primaryByVariant.filter((x) => x.values.length);
  const tie = withValues.length > 1 &&
    withValues.every((x) => x.summary.mean === withValues[0].summary.mean);
  const summary = `<div class="summary" id="summary"><strong>Answer in short.</strong> ` +
    (tie
      ? `Every variant has the same mean ${esc(pKey)}, ${esc(fmt(withValues[0].summary.mean))}.`
      : best
      ? `Best on ${esc(pKey)}: <strong>${esc(best.variant.label)}</strong>, ${
        esc(fmtPm(best.summary.mean, best.summary.std))
      } (mean ± std, n = ${best.summary.n}).`
      : "No finished run has the primary metric yet.") +
    (verdicts.length
      ? `<ul class="verdicts">${verdicts.map((v) => `<li>${esc(v)}</li>`).join("")}</ul>`
      : "") +
    (excludedRuns.length
      ? `<p class="note">${excludedRuns.length} of ${data.runs.length} runs failed or diverged ` +
        `and are left out of these numbers; see <a href="#problems">below</a>.</p>`
      : "") +
    `</div>`;

  const header = `<header id="question"><p class="muted">fuselab report</p>` +
    `<h1>${esc(m.experiment)}</h1>` +
    (m.description ? `<p class="lead">${esc(m.description)}</p>` : "") +
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>` +
    summary + `</header>`;

  // ---- curves
  const curveSpecs: { split: string; metric: string }[] = [{ split: "train", metric: "loss" }];
  curveSpecs.push({ split: "val", metric: "loss" });
  if (pName !== "loss") curveSpecs.push({ split: "val", metric: pName });
  const curveFigs: string[] = [];
  for (const spec of curveSpecs) {
    const series = curveSeries(data, variants, spec.split, spec.metric);
    if (!series.length) continue;
    const id = `curve-${slug(spec.split)}-${slug(spec.metric)}`;
    const c = add({
      id,
      title: `${spec.split === "train" ? "Training" : "Validation"} ${spec.metric}`,
      caption: `${esc(spec.split)}/${esc(spec.metric)} by step. Bold line: mean over seeds; ` +
        `band: min–max over seeds; faint lines: individual seeds (${series.length} runs).` +
        excludedNote,
      svg: curvesChart(id, series, labels, { x: "step", y: `${spec.split}/${spec.metric}` }),
    });
    curveFigs.push(figure(c));
  }
  const curves = `<section id="curves"><h2>Training and validation curves</h2>` +
    (curveFigs.length ? curveFigs.join("") : `<p class="note">No metrics.jsonl lines yet.</p>`) +
    `</section>`;

  // ---- final primary metric chart + tables
  const anyFinal = primaryByVariant.some((x) => x.values.length > 0);
  // proportions (accuracy, exact match, F1, …) cannot leave [0, 1]: cut drawn intervals there
  const proportion = isProportion(pName, primaryByVariant);
  const cut = proportion &&
    primaryByVariant.some((x) => x.summary.lo < 0 || x.summary.hi > 1);
  const finalChart = !anyFinal ? undefined : add({
    id: "final-primary",
    title: `Final ${pKey} per variant`,
    caption: `Dots: seeds; tick: mean; bar: 95% Student-t interval of the mean (n − 1 degrees ` +
      `of freedom; none when n &lt; 2)${
        cut ? ", drawn only within 0–1, the metric's range (the table gives it whole)" : ""
      }. ${hib ? "Higher" : "Lower"} is better.` + excludedNote,
    svg: intervalChart(
      "final-primary",
      finalRows(primaryByVariant),
      labels,
      pKey,
      false,
      proportion ? [0, 1] : undefined,
    ),
  });
  const primaryTable = table(
    "primary-table",
    ["variant", "n", "mean", "std", "95% interval", "seeds"],
    primaryByVariant.map((x): Cell[] => {
      const s = x.summary;
      const note = missingNote(x);
      return [
        { html: esc(x.variant.label), cls: "text" },
        {
          html: `${s.n}${note ? ` <span class="n">(${esc(note)})</span>` : ""}`,
          attrs: { "data-n": String(s.n) },
        },
        { html: esc(fmtWith(s.mean, s.std)), attrs: { "data-value": raw(s.mean) } },
        { html: esc(fmt(s.std)), attrs: { "data-value": raw(s.std) } },
        {
          html: Number.isFinite(s.half)
            ? `[${esc(fmtWith(s.lo, s.half))}, ${esc(fmtWith(s.hi, s.half))}]`
            : "–",
          attrs: { "data-lo": raw(s.lo), "data-hi": raw(s.hi) },
        },
        {
          html: x.values.map((v) => `${esc(v.seed)}: ${esc(fmt(v.value))}`).join(", ") || "–",
          cls: "text",
        },
      ];
    }),
  );
  const keys = metricKeys(data);
  const metricHead = [
    "variant",
    "runs counted",
    ...keys.map((k) => `${k} ${higherIsBetter(data, k) ? "↑" : "↓"}`),
  ];
  const metricRows = variants.map((v) => {
    const first = variantMetric(v, pKey);
    const cells: Cell[] = [
      { html: esc(v.label), cls: "text" },
      {
        html: `${first.values.length} of ${first.planned}` +
          (first.missing.length
            ? ` <span class="n">(${esc(missingNote(first).replace(/^of \d+: /, ""))})</span>`
            : ""),
      },
    ];
    for (const k of keys) {
      const s = variantMetric(v, k).summary;
      cells.push({
        html: s.n
          ? `<span class="nowrap">${
            esc(fmtPm(s.mean, s.std))
          }</span> <span class="n">(${s.n})</span>`
          : "–",
        attrs: {
          "data-metric": k,
          "data-mean": raw(s.mean),
          "data-std": raw(s.std),
          "data-n": String(s.n),
        },
      });
    }
    return cells;
  });
  // many metrics and few variants read better with metrics as rows
  const transpose = keys.length > 6 && variants.length < keys.length;
  const metricsTable = transpose
    ? table(
      "metrics-table",
      ["metric", ...variants.map((v) => v.label)],
      metricHead.slice(1).map((h, i) => [
        { html: esc(h), cls: "text" },
        ...metricRows.map((r) => r[i + 1]),
      ]),
    )
    : table("metrics-table", metricHead, metricRows);
  const finalSection = `<section id="final"><h2>Final ${esc(pName)} per variant</h2>` +
    (finalChart
      ? figure(finalChart)
      : `<p class="note">No run is done with ${esc(pKey)} yet: nothing to chart.</p>`) +
    primaryTable +
    `<h3>Every metric (mean ± std over seeds, (n))</h3>` + metricsTable +
    `<p class="note">std is the sample standard deviation (n − 1). Only runs in state ` +
    `<em>done</em> count; when fewer runs count than were planned, "runs counted" says which ` +
    `are missing and why.</p>` + paperTables(variants, keys) + `</section>`;

  // ---- effects
  const effectParts: string[] = [];
  if (axes.length >= 2) {
    const figs: string[] = [];
    for (const a of axes) {
      const pts = axisEffect(data, a, pKey);
      if (!pts.some((p) => p.perSeed.length)) continue;
      const id = `effect-${slug(a)}`;
      const c = add({
        id,
        title: `${axisLeaf(a)}: ${pName} with the other axes averaged`,
        caption: `Grey dots: per seed, the mean over variants with that value; diamond: mean of ` +
          `those; bar: 95% t-interval over seeds${proportion ? ", drawn within 0–1" : ""}.`,
        svg: effectChart(
          id,
          effectRows(pts, proportion),
          a,
          pKey,
        ),
      });
      figs.push(figure(c));
    }
    effectParts.push(`<div class="row">${figs.join("")}</div>`);
    const pairs: [string, string][] = [];
    for (let i = 0; i < axes.length; i++) {
      for (let j = i + 1; j < axes.length; j++) pairs.push([axes[i], axes[j]]);
    }
    for (const [ra, ca] of pairs.slice(0, 3)) {
      const cells = twoAxisGrid(data, ra, ca, pKey);
      if (!cells.some((x) => x.n > 0)) continue;
      const id = `heatmap-${slug(ra)}-${slug(ca)}`;
      const c = add({
        id,
        title: `${pName}: ${axisLeaf(ra)} × ${axisLeaf(ca)}`,
        caption: `Mean of ${esc(pKey)} over seeds${
          axes.length > 2 ? " and the other axes" : ""
        } in each cell; n = runs counted.`,
        svg: gridHeatmap(id, cells, heatmapAxes(data, ra, ca, pKey)),
      });
      effectParts.push(figure(c));
    }
  } else {
    effectParts.push(
      axes.length === 1
        ? `<p class="note">One axis: its effect is the per-variant chart in ` +
          `<a href="#final">Final ${esc(pName)}</a>; the paired comparison below tests it.</p>`
        : `<p class="note">No axes: one configuration, nothing to compare.</p>`,
    );
  }
  if (comparisons.length) {
    const id = "paired";
    const c = !comparisons.some((x) => x.test.n > 0) ? undefined : add({
      id,
      title: `Paired difference from the baseline (${baseline!.label}) on ${pKey}`,
      caption: `Each variant minus the baseline, paired by seed. Dots: per-seed differences; ` +
        `tick: mean difference; bar: 95% t-interval; dashed line: no difference.`,
      svg: intervalChart(
        id,
        pairedRows(comparisons),
        labels,
        `difference in ${pKey}`,
        true,
      ),
    });
    const pairedTable = table(
      "paired-table",
      [
        "variant",
        "baseline",
        "pairs",
        "mean difference",
        "95% interval",
        "t",
        "p (paired t)",
        "p (sign-flip, exact)",
        "verdict",
      ],
      comparisons.map((x): Cell[] => {
        const t = x.test;
        return [
          { html: esc(x.variant.label), cls: "text" },
          { html: esc(x.baseline.label), cls: "text" },
          { html: String(t.n), attrs: { "data-n": String(t.n) } },
          {
            html: esc(fmtSigned(t.mean, t.flat ? NaN : t.half)),
            attrs: { "data-value": raw(t.mean) },
          },
          {
            html: t.flat
              ? "no spread"
              : Number.isFinite(t.half)
              ? `± ${esc(fmtWith(t.half, t.half))}`
              : "–",
            attrs: { "data-half": raw(t.half), "data-lo": raw(t.lo), "data-hi": raw(t.hi) },
          },
          { html: esc(fmt(t.t)), attrs: { "data-value": raw(t.t) } },
          {
            html: esc(fmtP(t.pT).replace("p ", "").replace("= ", "")),
            attrs: { "data-value": raw(t.pT) },
          },
          {
            html: esc(fmtP(t.pSignFlip).replace("p ", "").replace("= ", "")),
            attrs: { "data-value": raw(t.pSignFlip) },
          },
          { html: esc(shortVerdict(x, hib)), cls: "text" },
        ];
      }),
    );
    const ns = [...new Set(comparisons.map((x) => x.test.n))].filter((n) => n >= 2 && n <= 6)
      .sort((a, b) => a - b);
    const smallNote = ns.length
      ? ` With few pairs the exact sign-flip test cannot give a small p (its smallest is ` +
        ns.map((n) => `${fmt(2 / 2 ** n)} at ${n} pairs`).join(", ") +
        `), so it only flags what more seeds would confirm; the t-test assumes roughly normal ` +
        `differences, which few seeds cannot check.`
      : "";
    effectParts.push(
      (c ? figure(c) : "") + pairedTable +
        `<p class="note">Pairs are runs of the two variants with the same seed, both done. ` +
        `Interval: mean difference ± t<sub>0.975, n−1</sub> · s/√n. p (paired t): two-sided ` +
        `paired t-test. p (sign-flip): exact two-sided permutation test over the 2<sup>n</sup> ` +
        `sign flips of the differences. "Distinguishable" means the 95% interval excludes 0.` +
        `${smallNote}</p>`,
    );
  }
  const effects = `<section id="effects"><h2>Effects</h2>${effectParts.join("")}</section>`;

  // ---- model insight
  const insight = insightSection(data, variants, labels, pName, add);

  // ---- cost
  const anyStopped = data.runs.some((r) => r.status.stoppedBy);
  const costRows: Cell[][] = data.runs.map((r) => [
    { html: esc(r.run.id), cls: "text" },
    { html: esc(labelOf(variants, r)), cls: "text" },
    String(r.run.seed),
    { html: stateBadge(r.status.state), cls: "text" },
    r.status.step !== undefined
      ? `${fmtInt(r.status.step)}${r.status.totalSteps ? ` / ${fmtInt(r.status.totalSteps)}` : ""}`
      : "–",
    {
      html: esc(fmtDuration(r.status.trainSeconds)),
      attrs: { "data-value": raw(r.status.trainSeconds) },
    },
    { html: esc(fmt(r.status.throughput)), attrs: { "data-value": raw(r.status.throughput) } },
    fmtInt(r.status.parameters),
    { html: esc(r.env ? `${r.env.backend?.name ?? "?"}` : "–"), cls: "text" },
    String(r.status.attempts ?? (r.status.state === "pending" ? 0 : 1)),
    ...(anyStopped ? [{ html: esc(r.status.stoppedBy ?? "–"), cls: "text" }] : []),
  ]);
  const totalTime = data.runs.reduce((s, r) => s + (r.status.trainSeconds ?? 0), 0);
  const cost = `<section id="cost"><h2>Cost</h2>` +
    `<p>Total training time ${esc(fmtDuration(totalTime))} over ${data.runs.length} runs.</p>` +
    table(
      "cost-table",
      [
        "run",
        "variant",
        "seed",
        "state",
        "steps",
        "train time",
        "throughput (items/s)",
        "parameters",
        "backend",
        "attempts",
        ...(anyStopped ? ["stopped by"] : []),
      ],
      costRows,
    ) + `</section>`;

  // ---- failed, diverged, unfinished
  const bad = data.runs.filter((r) => r.status.state !== "done");
  const problems = `<section id="problems"><h2>Failed, diverged and unfinished runs</h2>` +
    (bad.length
      ? `<p>${bad.length} of ${data.runs.length} planned runs did not finish; they are left out of ` +
        `means and intervals (the tables above say where n is smaller than planned).</p>` +
        table(
          "problems-table",
          ["run", "variant", "seed", "state", "step", "error"],
          bad.map((r): Cell[] => [
            { html: esc(r.run.id), cls: "text" },
            { html: esc(labelOf(variants, r)), cls: "text" },
            String(r.run.seed),
            { html: stateBadge(r.status.state), cls: "text" },
            r.status.step !== undefined ? fmtInt(r.status.step) : "–",
            {
              html: esc(r.status.error ?? (r.status.state === "pending" ? "not started" : "–")),
              cls: "err",
            },
          ]),
        )
      : `<p>All ${data.runs.length} planned runs are done.</p>`) +
    (data.problems.length
      ? `<h3>Unreadable files</h3><ul>${
        data.problems.map((p) => `<li><code>${esc(p)}</code></li>`).join("")
      }</ul>`
      : "") +
    `</section>`;

  const footer =
    `<footer>Built by <code>deno task report</code> from <code>${
      esc(data.dir.split("/").pop() ?? data.dir)
    }/</code> alone (manifest, run configs, metrics, status, artifacts); no network or scripts ` +
    `needed. Charts as SVG and PNG in <code>charts/</code>.</footer>`;

  const html = page(
    `${m.experiment} — fuselab report`,
    [header, curves, finalSection, effects, insight, cost, problems, footer].join("\n"),
  );
  return { html, charts };
}

function latex(s: string): string {
  return s.replace(/[\\&%$#_{}]/g, (c) => (c === "\\" ? "\\textbackslash{}" : `\\${c}`));
}

/** The metrics table as Markdown and LaTeX, to paste into a paper (inside `<details>`). */
function paperTables(variants: Variant[], keys: string[]): string {
  const cells = variants.map((v) =>
    keys.map((k) => {
      const s = variantMetric(v, k).summary;
      return s.n ? fmtPm(s.mean, s.std).replaceAll("\u2212", "-") : "";
    })
  );
  const ns = variants.map((v) => String(variantMetric(v, keys[0]).summary.n));
  const md = [
    `| variant | n | ${keys.join(" | ")} |`,
    `|---|---:|${keys.map(() => "---:").join("|")}|`,
    ...variants.map((v, i) => `| ${v.label} | ${ns[i]} | ${cells[i].join(" | ")} |`),
  ].join("\n");
  const tex = [
    `\\begin{tabular}{lr${"r".repeat(keys.length)}}`,
    `variant & $n$ & ${keys.map(latex).join(" & ")} \\\\ \\hline`,
    ...variants.map((v, i) =>
      `${latex(v.label)} & ${ns[i]} & ${
        cells[i].map((c) => (c ? `$${c.replace("±", "\\pm")}$` : "")).join(" & ")
      } \\\\`
    ),
    `\\end{tabular}`,
  ].join("\n");
  return `<details id="paper-tables"><summary>This table as Markdown or LaTeX ` +
    `(mean ± std; n counts the primary metric)</summary>` +
    `<pre id="table-markdown">${esc(md)}</pre><pre id="table-latex">${esc(tex)}</pre></details>`;
}

/** The verdict alone: "better", "worse", "not distinguishable", "no interval". */
export function shortVerdict(c: Comparison, hib: boolean): string {
  const t = c.test;
  if (t.n === 0) return "no pairs";
  if (t.n === 1) return "no interval (1 pair)";
  if (t.flat && t.mean !== 0) {
    // every seed moved by the same amount: no spread for a t-interval; the sign-flip test decides
    if (!(t.pSignFlip < 0.05)) return "not distinguishable";
  } else if (!(t.lo > 0 || t.hi < 0)) return "not distinguishable";
  return (t.mean > 0) === hib ? "better" : "worse";
}

/** The plain-language line for a paired comparison. */
export function verdict(c: Comparison, metric: string, hib: boolean): string {
  const t = c.test;
  const head = `${c.variant.label} vs ${c.baseline.label}: `;
  if (t.n === 0) return `${head}no seed where both finished, no comparison`;
  if (t.n === 1) {
    return `${head}${fmtSigned(t.mean)} ${metric} at a single paired seed, no interval`;
  }
  const short = shortVerdict(c, hib);
  const judged = short === "not distinguishable"
    ? `not distinguishable at ${t.n} seeds`
    : `${c.variant.label} ${short}`;
  if (t.flat && t.mean !== 0) {
    return `${head}${fmtSigned(t.mean)} ${metric} at each of ${t.n} seeds (no spread, so no ` +
      `t-interval), ${judged} (sign-flip ${fmtP(t.pSignFlip)})`;
  }
  const est = `${fmtCi(t.mean, t.half)} ${metric}`;
  return short === "not distinguishable"
    ? `${head}${est}, ${judged} (paired t ${fmtP(t.pT)})`
    : `${head}${est}, ${judged} (paired t ${fmtP(t.pT)}, ${t.n} seeds)`;
}

/**
 * Builds `<experimentDir>/report.html` and `<experimentDir>/charts/*.svg|png`
 * from the results folder alone; returns the HTML path. Chart files no
 * longer produced are removed; unchanged files are not rewritten.
 */
export async function buildReport(experimentDir: string): Promise<string> {
  const data = await loadResults(experimentDir);
  const { html, charts } = renderReport(data);
  const chartDir = join(data.dir, "charts");
  await Deno.mkdir(chartDir, { recursive: true });
  const keep = new Set<string>();
  for (const c of charts) {
    const svgPath = join(chartDir, `${c.id}.svg`);
    const pngPath = join(chartDir, `${c.id}.png`);
    keep.add(`${c.id}.svg`);
    keep.add(`${c.id}.png`);
    let unchanged = false;
    try {
      unchanged = (await Deno.readTextFile(svgPath)) === c.svg && (await Deno.stat(pngPath)).isFile;
    } catch {
      unchanged = false;
    }
    if (unchanged) continue;
    await writeAtomic(svgPath, c.svg);
    const png = await svgToPng(c.svg);
    if (png) await writeAtomic(pngPath, png);
  }
  for await (const e of Deno.readDir(chartDir)) {
    if (e.isFile && /\.(svg|png)$/.test(e.name) && !keep.has(e.name)) {
      await Deno.remove(join(chartDir, e.name));
    }
  }
  for (const [path, text] of csvFiles(data)) await writeAtomic(path, text);
  const htmlPath = join(data.dir, "report.html");
  await writeAtomic(htmlPath, html);
  return htmlPath;
}
