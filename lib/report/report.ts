/**
 * `buildReport(experimentDir)`: one experiment's `report.html` (inline SVG,
 * no scripts, opens from disk) and every chart as `charts/<id>.svg|png`,
 * rebuilt from the results folder alone. Nothing here reads the clock, so a
 * rebuild of unchanged results is byte-identical.
 *
 * @module
 */
import { sweepTempFiles, writeFileAtomic } from "../util/atomic.ts";
import type { Correction, RunState } from "../contract/results.ts";
import {
  axisEffect,
  axisLeaf,
  baselineOf,
  compareToBaseline,
  type Comparison,
  correctionOf,
  earliestTime,
  higherIsBetter,
  labelOf,
  latestTime,
  metricKeys,
  metricRange,
  missingNote,
  primaryKey,
  stateCounts,
  twoAxisGrid,
  valueText,
  type Variant,
  type VariantMetric,
  variantMetric,
  variantsOf,
} from "./analysis.ts";
import { type Chart, curvesChart, effectChart, gridHeatmap, intervalChart } from "./charts.ts";
import { csvFiles } from "./csv.ts";
import { curveSeries, effectRows, finalRows, heatmapAxes, pairedRows } from "./figures.ts";
import { insightSection } from "./insight.ts";
import {
  esc,
  fmt,
  fmtCi,
  fmtCiRange,
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
import { type ExperimentData, join, loadResults, type RunData } from "./load.ts";
import { svgToPng } from "./png.ts";
import { ALPHA, differenceRange, SIGN_FLIP_DRAWS, SIGN_FLIP_EXACT_MAX } from "./stats.ts";

/** Temporary files of atomic writes, this module's older `<name>.tmp-<pid>` ones included. */
const STALE_TEMP_FILE = /\.\d+\.\d+\.tmp$|\.tmp-\d+$/;

/** Writes a file through a temporary name and a rename, skipping identical content. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const old = await Deno.readFile(path);
    if (old.length === bytes.length && old.every((b, i) => b === bytes[i])) return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await writeFileAtomic(path, bytes);
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

/** What every section reads: the loaded data and the numbers shared between sections. */
interface ReportContext {
  data: ExperimentData;
  /** Variants in plan order, and their labels (chart categories). */
  variants: Variant[];
  labels: string[];
  /** The primary metric's key (`test/exact_match`), bare name, and direction. */
  pKey: string;
  pName: string;
  hib: boolean;
  /** Axis paths, in declaration order. */
  axes: string[];
  baseline: Variant | undefined;
  /** Failed and diverged runs, and the caption sentence that names them. */
  excludedRuns: RunData[];
  excludedNote: string;
  /** The primary metric per variant, and each variant paired with the baseline. */
  primaryByVariant: VariantMetric[];
  comparisons: Comparison[];
  /** The primary metric's range (e.g. [0, 1]): its intervals stay inside it. */
  range: [number, number] | undefined;
  /** The family-wise correction of the comparisons. */
  correction: Correction;
  /** Registers a chart (page order) and returns it. */
  add: (c: Chart) => Chart;
}

/** Builds the report page and charts of a loaded experiment (pure: no file access). */
export function renderReport(data: ExperimentData): RenderedReport {
  const charts: Chart[] = [];
  const ctx = reportContext(data, (c) => {
    charts.push(c);
    return c;
  });
  // sections in page order: charts are registered in the order they appear
  const sections = [
    questionSection(ctx),
    curvesSection(ctx),
    finalSection(ctx),
    effectsSection(ctx),
    insightSection(data, ctx.variants, ctx.labels, ctx.pName, ctx.add),
    costSection(ctx),
    problemsSection(ctx),
    footer(ctx),
  ];
  const html = page(`${data.manifest.experiment} — fuselab report`, sections.join("\n"));
  return { html, charts };
}

/** The numbers every section shares, computed once. */
function reportContext(data: ExperimentData, add: (c: Chart) => Chart): ReportContext {
  const m = data.manifest;
  const variants = variantsOf(data);
  const pKey = primaryKey(data);
  const pName = bare(pKey);
  const baseline = baselineOf(data, variants);
  const excludedRuns = data.runs.filter((r) => ["failed", "diverged"].includes(r.status.state));
  const excludedNote = excludedRuns.length
    ? ` Excluded: ${
      excludedRuns.map((r) =>
        `${esc(labelOf(variants, r))} seed ${r.run.seed} (${esc(r.status.state)})`
      ).join(", ")
    }, see <a href="#problems">failed and diverged runs</a>.`
    : "";
  // bounded metrics (accuracy, exact match, F1, BLEU, …): intervals are cut at their range
  const range = metricRange(data, pKey);
  const correction = correctionOf(data);
  return {
    data,
    variants,
    labels: variants.map((v) => v.label),
    pKey,
    pName,
    hib: m.primary.higherIsBetter,
    axes: Object.keys(m.axes),
    baseline,
    excludedRuns,
    excludedNote,
    primaryByVariant: variants.map((v) => variantMetric(v, pKey, range)),
    comparisons: baseline ? compareToBaseline(variants, baseline, pKey, { range, correction }) : [],
    range,
    correction,
    add,
  };
}

/** The question: name, description, the facts list and the answer in short. */
function questionSection(ctx: ReportContext): string {
  const m = ctx.data.manifest;
  return `<header id="question"><p class="muted">fuselab report</p>` +
    `<h1>${esc(m.experiment)}</h1>` +
    (m.description ? `<p class="lead">${esc(m.description)}</p>` : "") +
    `<dl class="facts">${facts(ctx).map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>` +
    answerInShort(ctx) + `</header>`;
}

/** The facts of the question: file, axes, seeds, metric, baseline, runs, backend, machine, dates. */
function facts(ctx: ReportContext): [string, string][] {
  const { data, axes, baseline, pKey, hib } = ctx;
  const m = data.manifest;
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
  return [
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
}

/** "Answer in short": the best variant and one plain-language verdict per comparison. */
function answerInShort(ctx: ReportContext): string {
  const { data, pKey, pName, hib, excludedRuns } = ctx;
  const verdicts = ctx.comparisons.map((c) => verdict(c, pName, hib));
  const withValues = ctx.primaryByVariant.filter((x) => x.values.length);
  const best =
    withValues.sort((a, b) =>
      hib ? b.summary.mean - a.summary.mean : a.summary.mean - b.summary.mean
    )[0];
  const tie = withValues.length > 1 &&
    withValues.every((x) => x.summary.mean === withValues[0].summary.mean);
  return `<div class="summary" id="summary"><strong>Answer in short.</strong> ` +
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
    familyText(ctx) + moreSeedsText(data, ctx.comparisons) +
    (excludedRuns.length
      ? `<p class="note">${excludedRuns.length} of ${data.runs.length} runs failed or diverged ` +
        `and are left out of these numbers; see <a href="#problems">below</a>.</p>`
      : "") +
    `</div>`;
}

/** "3 comparisons with the baseline; verdicts use Holm-adjusted p-values." */
function familyText(ctx: ReportContext): string {
  const family = ctx.comparisons[0]?.family ?? 0;
  if (family < 2) return "";
  const how = ctx.correction === "none"
    ? `p-values are not adjusted (<code>report.correction: none</code>)`
    : `verdicts use ${
      ctx.correction === "holm" ? "Holm–Bonferroni" : "Bonferroni"
    }-adjusted p-values, so that the chance of any false "distinguishable" stays at most ${ALPHA}`;
  return `<p class="note">${family} comparisons with the baseline; ${how} ` +
    `(<a href="#paired-table">table</a>).</p>`;
}

/** Training and validation curves: `train/loss`, `val/loss` and the primary metric on `val`. */
function curvesSection(ctx: ReportContext): string {
  const { data, variants, labels, pName } = ctx;
  const curveSpecs: { split: string; metric: string }[] = [{ split: "train", metric: "loss" }];
  curveSpecs.push({ split: "val", metric: "loss" });
  if (pName !== "loss") curveSpecs.push({ split: "val", metric: pName });
  const curveFigs: string[] = [];
  for (const spec of curveSpecs) {
    const series = curveSeries(data, variants, spec.split, spec.metric);
    if (!series.length) continue;
    const id = `curve-${slug(spec.split)}-${slug(spec.metric)}`;
    const c = ctx.add({
      id,
      title: `${spec.split === "train" ? "Training" : "Validation"} ${spec.metric}`,
      caption: `${esc(spec.split)}/${esc(spec.metric)} by step. Bold line: mean over seeds; ` +
        `band: min–max over seeds; faint lines: individual seeds (${series.length} runs).` +
        ctx.excludedNote,
      svg: curvesChart(id, series, labels, { x: "step", y: `${spec.split}/${spec.metric}` }),
    });
    curveFigs.push(figure(c));
  }
  return `<section id="curves"><h2>Training and validation curves</h2>` +
    (curveFigs.length ? curveFigs.join("") : `<p class="note">No metrics.jsonl lines yet.</p>`) +
    `</section>`;
}

/** Final primary metric per variant: the interval chart, its table, every metric, paper tables. */
function finalSection(ctx: ReportContext): string {
  const { pKey, pName, hib, primaryByVariant, range, labels } = ctx;
  const anyFinal = primaryByVariant.some((x) => x.values.length > 0);
  const cut = primaryByVariant.some((x) => x.summary.clipped);
  const finalChart = !anyFinal ? undefined : ctx.add({
    id: "final-primary",
    title: `Final ${pKey} per variant`,
    caption: `Dots: seeds; tick: mean; bar: 95% Student-t interval of the mean (n − 1 degrees ` +
      `of freedom; none when n &lt; 2)${cut ? `, ${cutNote(range)}` : ""}. ` +
      `${hib ? "Higher" : "Lower"} is better.` + ctx.excludedNote,
    svg: intervalChart(
      "final-primary",
      finalRows(primaryByVariant),
      labels,
      pKey,
      false,
      range,
    ),
  });
  const keys = metricKeys(ctx.data);
  return `<section id="final"><h2>Final ${esc(pName)} per variant</h2>` +
    (finalChart
      ? figure(finalChart)
      : `<p class="note">No run is done with ${esc(pKey)} yet: nothing to chart.</p>`) +
    primaryTable(ctx) +
    (cut
      ? `<p class="note">Intervals of ${esc(pName)} are ${cutNote(range)}: the true mean lies ` +
        `in that range, so the cut interval holds it exactly as often as the t-interval does ` +
        `(see docs/report.md).</p>`
      : "") +
    `<h3>Every metric (mean ± std over seeds, (n))</h3>` + metricsTable(ctx, keys) +
    `<p class="note">std is the sample standard deviation (n − 1). Only runs in state ` +
    `<em>done</em> count; when fewer runs count than were planned, "runs counted" says which ` +
    `are missing and why.</p>` + paperTables(ctx.variants, keys) + `</section>`;
}

/** The primary metric per variant: n, mean, std, 95% interval and every seed's value. */
function primaryTable(ctx: ReportContext): string {
  return table(
    "primary-table",
    ["variant", "n", "mean", "std", "95% interval", "seeds"],
    ctx.primaryByVariant.map((x): Cell[] => {
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
}

/** Every final metric per variant as `mean ± std (n)`; metrics as rows when there are many. */
function metricsTable(ctx: ReportContext, keys: string[]): string {
  const { data, variants, pKey } = ctx;
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
  return transpose
    ? table(
      "metrics-table",
      ["metric", ...variants.map((v) => v.label)],
      metricHead.slice(1).map((h, i) => [
        { html: esc(h), cls: "text" },
        ...metricRows.map((r) => r[i + 1]),
      ]),
    )
    : table("metrics-table", metricHead, metricRows);
}

/** Effects: per-axis effects and heatmaps (two or more axes), then the paired comparisons. */
function effectsSection(ctx: ReportContext): string {
  const { axes, pName } = ctx;
  const parts: string[] = [];
  if (axes.length >= 2) parts.push(...axisEffects(ctx));
  else {
    parts.push(
      axes.length === 1
        ? `<p class="note">One axis: its effect is the per-variant chart in ` +
          `<a href="#final">Final ${esc(pName)}</a>; the paired comparison below tests it.</p>`
        : `<p class="note">No axes: one configuration, nothing to compare.</p>`,
    );
  }
  if (ctx.comparisons.length) parts.push(pairedComparisons(ctx));
  return `<section id="effects"><h2>Effects</h2>${parts.join("")}</section>`;
}

/** For each axis its effect with the other axes averaged, and heatmaps of up to 3 axis pairs. */
function axisEffects(ctx: ReportContext): string[] {
  const { data, axes, pKey, pName, range } = ctx;
  const parts: string[] = [];
  const figs: string[] = [];
  for (const a of axes) {
    const pts = axisEffect(data, a, pKey, range);
    if (!pts.some((p) => p.perSeed.length)) continue;
    const id = `effect-${slug(a)}`;
    const c = ctx.add({
      id,
      title: `${axisLeaf(a)}: ${pName} with the other axes averaged`,
      caption: `Grey dots: per seed, the mean over variants with that value; diamond: mean of ` +
        `those; bar: 95% t-interval over seeds${
          pts.some((p) => p.summary.clipped) ? `, ${cutNote(range)}` : ""
        }.`,
      svg: effectChart(
        id,
        effectRows(pts),
        a,
        pKey,
      ),
    });
    figs.push(figure(c));
  }
  parts.push(`<div class="row">${figs.join("")}</div>`);
  const pairs: [string, string][] = [];
  for (let i = 0; i < axes.length; i++) {
    for (let j = i + 1; j < axes.length; j++) pairs.push([axes[i], axes[j]]);
  }
  for (const [ra, ca] of pairs.slice(0, 3)) {
    const cells = twoAxisGrid(data, ra, ca, pKey);
    if (!cells.some((x) => x.n > 0)) continue;
    const id = `heatmap-${slug(ra)}-${slug(ca)}`;
    const c = ctx.add({
      id,
      title: `${pName}: ${axisLeaf(ra)} × ${axisLeaf(ca)}`,
      caption: `Mean of ${esc(pKey)} over seeds${
        axes.length > 2 ? " and the other axes" : ""
      } in each cell; n = runs counted.`,
      svg: gridHeatmap(id, cells, heatmapAxes(data, ra, ca, pKey)),
    });
    parts.push(figure(c));
  }
  return parts;
}

/** Every variant against the baseline, paired by seed: the chart, the table and its note. */
function pairedComparisons(ctx: ReportContext): string {
  const { comparisons, baseline, pKey, labels } = ctx;
  const id = "paired";
  const cut = comparisons.some((x) => x.test.clipped);
  const c = !comparisons.some((x) => x.test.n > 0) ? undefined : ctx.add({
    id,
    title: `Paired difference from the baseline (${baseline!.label}) on ${pKey}`,
    caption: `Each variant minus the baseline, paired by seed. Dots: per-seed differences; ` +
      `tick: mean difference; bar: 95% t-interval${
        cut ? `, ${cutNote(differenceRange(ctx.range))}` : ""
      }; dashed line: no difference.`,
    svg: intervalChart(
      id,
      pairedRows(comparisons),
      labels,
      `difference in ${pKey}`,
      true,
    ),
  });
  const ns = [...new Set(comparisons.map((x) => x.test.n))].filter((n) => n >= 2 && n <= 6)
    .sort((a, b) => a - b);
  const smallNote = ns.length
    ? ` With few pairs the exact sign-flip test cannot give a small p (its smallest is ` +
      ns.map((n) => `${fmt(2 / 2 ** n)} at ${n} pairs`).join(", ") +
      `), so it only flags what more seeds would confirm; the t-test assumes roughly normal ` +
      `differences, which few seeds cannot check.`
    : "";
  const family = comparisons[0]?.family ?? 0;
  const planned = comparisons[0]?.alphaPlanned ?? ALPHA;
  const monteCarlo = comparisons.some((x) => x.test.n > SIGN_FLIP_EXACT_MAX);
  return (c ? figure(c) : "") + pairedTable(ctx) +
    `<p class="note">Pairs are runs of the two variants with the same seed, both done. ` +
    `Interval: mean difference ± t<sub>0.975, n−1</sub> · s/√n, for each comparison on its ` +
    `own (not adjusted)${cut ? `, ${cutNote(differenceRange(ctx.range))}` : ""}. ` +
    `d<sub>z</sub>: Cohen's effect size for paired data, mean difference / standard ` +
    `deviation of the differences. p (paired t): two-sided paired t-test. ` +
    `${esc(adjustedHead(ctx.correction, family))}: ${correctionText(ctx.correction, family)}; ` +
    `the verdict uses it: "distinguishable" means adjusted p &lt; ${ALPHA} (when every ` +
    `difference is the same, the t-test is undefined and the sign-flip p stands in). ` +
    `p (sign-flip): two-sided permutation test over the 2<sup>n</sup> sign flips of the ` +
    `differences${
      monteCarlo
        ? ` (above ${SIGN_FLIP_EXACT_MAX} pairs from ${fmtInt(SIGN_FLIP_DRAWS)} random flips ` +
          `with a fixed seed, not all of them)`
        : ", exact"
    }. Seeds for 80% power: the fewest seeds at which a paired t-test at α = ` +
    `${Number(planned.toPrecision(3))}${
      ctx.correction !== "none" && family > 1
        ? ` (${ALPHA}/${family}, so that it stands after ` +
          `the correction)`
        : ""
    } finds an effect of the observed d<sub>z</sub> 80% of the time; it takes the observed ` +
    `effect as the true one, which with few seeds is itself uncertain.${smallNote}</p>`;
}

/** The header of the adjusted-p column: "p adjusted (Holm, 3 comparisons)". */
function adjustedHead(correction: Correction, family: number): string {
  const n = `${family} comparison${family === 1 ? "" : "s"}`;
  return correction === "none"
    ? `p used (no correction, ${n})`
    : `p adjusted (${correction === "holm" ? "Holm" : "Bonferroni"}, ${n})`;
}

/** What the correction did, in words. */
function correctionText(correction: Correction, family: number): string {
  if (correction === "none") {
    return `no family-wise correction (the experiment's <code>report.correction</code> is ` +
      `"none"), so with ${family} comparisons the chance of at least one false ` +
      `"distinguishable" is up to ${fmt(Math.min(1, 1 - (1 - ALPHA) ** family))} rather than ` +
      `${ALPHA}`;
  }
  const how = correction === "holm"
    ? "Holm–Bonferroni: the k-th smallest of the m p-values times m − k + 1, kept increasing"
    : "Bonferroni: each p times m";
  return `the p of the verdict's test adjusted for the ${family} comparison${
    family === 1 ? "" : "s"
  } with the baseline by ${how}, so that the chance of any false "distinguishable" stays ` +
    `at most ${ALPHA}`;
}

/** The p-value without its "p = " (for table cells). */
function bareP(p: number): string {
  return fmtP(p).replace("p ", "").replace("= ", "");
}

/** The paired comparisons' table: pairs, differences, effect size, p-values, verdict, seeds. */
function pairedTable(ctx: ReportContext): string {
  const family = ctx.comparisons[0]?.family ?? 0;
  return table(
    "paired-table",
    [
      "variant",
      "baseline",
      "pairs",
      "mean difference",
      "95% interval",
      "d_z",
      "t",
      "p (paired t)",
      adjustedHead(ctx.correction, family),
      "p (sign-flip)",
      "verdict",
      "seeds for 80% power",
    ],
    ctx.comparisons.map((x): Cell[] => {
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
          html: t.flat || t.identical
            ? "no spread"
            : Number.isFinite(t.half)
            ? `<span class="nowrap">[${esc(fmtSigned(t.lo, t.half))}, ${
              esc(fmtSigned(t.hi, t.half))
            }]</span>`
            : "–",
          attrs: { "data-half": raw(t.half), "data-lo": raw(t.lo), "data-hi": raw(t.hi) },
        },
        { html: esc(fmt(t.dz)), attrs: { "data-value": raw(t.dz) } },
        { html: esc(fmt(t.t)), attrs: { "data-value": raw(t.t) } },
        { html: esc(bareP(t.pT)), attrs: { "data-value": raw(t.pT) } },
        {
          html: esc(bareP(x.pAdjusted)) +
            (x.pBy === "sign-flip" ? ` <span class="n">(sign-flip)</span>` : ""),
          attrs: { "data-value": raw(x.pAdjusted), "data-raw": raw(x.p) },
        },
        {
          html: esc(bareP(t.pSignFlip)) +
            (t.n > SIGN_FLIP_EXACT_MAX ? ` <span class="n">(Monte Carlo)</span>` : ""),
          attrs: { "data-value": raw(t.pSignFlip) },
        },
        { html: esc(shortVerdict(x, ctx.hib)), cls: "text" },
        {
          html: Number.isNaN(x.seedsNeeded)
            ? "–"
            : x.seedsNeeded === Infinity
            ? (t.identical ? "– (identical)" : "more than a million")
            : `${fmtInt(x.seedsNeeded)}${x.pBy === "sign-flip" ? " (sign-flip)" : ""}`,
          attrs: { "data-value": Number.isFinite(x.seedsNeeded) ? String(x.seedsNeeded) : "" },
        },
      ];
    }),
  );
}

/** Cost per run: state, steps, training time, throughput, parameters, backend, attempts. */
function costSection(ctx: ReportContext): string {
  const { data, variants } = ctx;
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
  return `<section id="cost"><h2>Cost</h2>` +
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
}

/** Failed, diverged and unfinished runs with their step and error; unreadable files. */
function problemsSection(ctx: ReportContext): string {
  const { data, variants } = ctx;
  const bad = data.runs.filter((r) => r.status.state !== "done");
  return `<section id="problems"><h2>Failed, diverged and unfinished runs</h2>` +
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
}

/** The footer: where the page was built from. */
function footer(ctx: ReportContext): string {
  const dir = ctx.data.dir;
  return `<footer>Built by <code>deno task report</code> from <code>${
    esc(dir.split("/").pop() ?? dir)
  }/</code> alone (manifest, run configs, metrics, status, artifacts); no network or scripts ` +
    `needed. Charts as SVG and PNG in <code>charts/</code>.</footer>`;
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

/** A range as `[0, 1]`, `[−1, 1]`, `[0, 100]` (plain numbers). */
function rangeText(range: readonly [number, number]): string {
  const plain = (x: number) => String(Number(x.toPrecision(6))).replace("-", "\u2212");
  return `[${plain(range[0])}, ${plain(range[1])}]`;
}

/** "cut at the range [0, 1] where the t-interval reaches past it" */
function cutNote(range: readonly [number, number] | undefined): string {
  return range ? `cut at the range ${rangeText(range)} where the t-interval reaches past it` : "";
}

/**
 * The verdict alone: "better", "worse", "not distinguishable", "identical
 * values", "no interval (1 pair)" or "no pairs".
 */
export function shortVerdict(c: Comparison, hib: boolean): string {
  const t = c.test;
  if (t.n === 0) return "no pairs";
  if (t.n === 1) return "no interval (1 pair)";
  if (t.identical) return "identical values";
  if (!c.distinguishable) return "not distinguishable";
  return (t.mean > 0) === hib ? "better" : "worse";
}

/** ", Holm-adjusted p = 0.13 over 3 comparisons" (nothing without a correction or a family). */
function adjustedText(c: Comparison): string {
  if (c.correction === "none" || c.family < 2 || Number.isNaN(c.pAdjusted)) return "";
  const name = c.correction === "holm" ? "Holm" : "Bonferroni";
  return `, ${name}-adjusted ${fmtP(c.pAdjusted)} over ${c.family} comparisons`;
}

/** "; about 9 seeds would settle this" for a comparison that is not distinguishable. */
export function seedsSentence(c: Comparison): string {
  const n = c.seedsNeeded;
  if (Number.isNaN(n) || c.test.identical) return "";
  if (n === Infinity) return "; no practical number of seeds would settle an effect this small";
  if (c.pBy === "sign-flip") {
    return `; if every further seed moved the same way, ${fmtInt(n)} seeds would settle this`;
  }
  return n > 1000
    ? `; an effect this small would take about ${fmtInt(n)} seeds to settle`
    : `; about ${fmtInt(n)} seeds would settle this`;
}

/** The plain-language line for a paired comparison. */
export function verdict(c: Comparison, metric: string, hib: boolean): string {
  const t = c.test;
  const head = `${c.variant.label} vs ${c.baseline.label}: `;
  if (t.n === 0) return `${head}no seed where both finished with a ${metric} value, no comparison`;
  if (t.n === 1) {
    return `${head}${fmtSigned(t.mean)} ${metric} at a single paired seed, no interval`;
  }
  if (t.identical) {
    return `${head}identical ${metric} at each of ${t.n} seeds (every paired difference is 0, ` +
      `so the t-test is undefined): the variants gave the same values`;
  }
  const short = shortVerdict(c, hib);
  const judged = short === "not distinguishable"
    ? `not distinguishable at ${t.n} seeds`
    : `${c.variant.label} ${short}`;
  const more = seedsSentence(c);
  if (t.flat) {
    return `${head}${fmtSigned(t.mean)} ${metric} at each of ${t.n} seeds (no spread, so no ` +
      `t-interval), ${judged} (sign-flip ${fmtP(t.pSignFlip)}${adjustedText(c)})${more}`;
  }
  const est = t.clipped ? fmtCiRange(t.mean, t.lo, t.hi, t.half) : fmtCi(t.mean, t.half);
  return short === "not distinguishable"
    ? `${head}${est} ${metric}, ${judged} (paired t ${fmtP(t.pT)}${adjustedText(c)})${more}`
    : `${head}${est} ${metric}, ${judged} (paired t ${fmtP(t.pT)}${adjustedText(c)}, ${t.n} seeds)`;
}

/**
 * How to add seeds, for the answer in short: "set `seeds: 9` in <file> and
 * run `deno task exp <file>` again …"; empty when no comparison needs more.
 */
export function moreSeedsText(data: ExperimentData, comparisons: Comparison[]): string {
  // seeds to add: the pairs a comparison lacks (failed runs make fewer pairs than seeds)
  const wanted = comparisons.filter((c) => Number.isFinite(c.seedsNeeded)).map((c) =>
    c.seedsNeeded - c.test.n
  );
  if (!wanted.length) return "";
  const seeds = data.manifest.seeds;
  const target = seeds.length + Math.min(...wanted);
  const file = data.manifest.file || "<experiment file>";
  const done = data.runs.filter((r) => r.status.state === "done").length;
  const counted = seeds.every((s, i) => s === i);
  const edit = counted
    ? `set <code>seeds: ${target}</code> in <code>${esc(file)}</code>`
    : `add ${target - seeds.length} seed${target - seeds.length === 1 ? "" : "s"} to the ` +
      `<code>seeds</code> list in ` +
      `<code>${esc(file)}</code>`;
  return `<p class="note">More seeds: ${edit} (or the count for the comparison you care ` +
    `about) and run <code>deno task exp ${esc(file)}</code> again. The ${done} runs already ` +
    `done are kept (a run's id is its config and seed, so existing seeds are found); only the ` +
    `new seeds train, then the report is rebuilt.</p>`;
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
  // Temporary files a killed build left (not those of a build running now).
  await sweepTempFiles(chartDir, STALE_TEMP_FILE, 60_000);
  for (const [path, text] of csvFiles(data)) await writeAtomic(path, text);
  const htmlPath = join(data.dir, "report.html");
  await writeAtomic(htmlPath, html);
  return htmlPath;
}
