/**
 * Charts for report pages: Observable Plot rendered server-side into a
 * linkedom document, wrapped in a standalone SVG with our own legends
 * (categorical swatches, and continuous colour ramps drawn as an SVG
 * gradient, since Plot's ramp legend needs a canvas).
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { esc, fmt } from "./format.ts";
import { matrixDataUri } from "./raster.ts";

/** A rendered chart: a standalone SVG document plus its page texts. */
export interface Chart {
  /** File-safe id: `charts/<id>.svg|png` and the HTML anchor. */
  id: string;
  /** Heading shown above the chart on the page. */
  title: string;
  /** What is drawn, said plainly (bands, intervals, exclusions). */
  caption: string;
  /** The chart as a standalone SVG document (legend included, white background). */
  svg: string;
}

/** Categorical colours for variants (Tableau 10). */
export const PALETTE = [
  "#4e79a7",
  "#f28e2c",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc949",
  "#af7aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ab",
];

const FONT = "system-ui, sans-serif";
type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;
let doc: PlotDocument | undefined;

function document(): PlotDocument {
  doc ??= (parseHTML("<!doctype html><html><body></body></html>") as unknown as {
    document: PlotDocument;
  }).document;
  return doc;
}

/** What the report needs of a rendered Plot element. */
interface SvgElement {
  setAttribute(name: string, value: string): void;
  outerHTML: string;
}

/** Approximate width of a label in pixels (DejaVu Sans is wide; err on the safe side). */
export function textWidth(s: string, fontSize = 11): number {
  return s.length * fontSize * 0.62;
}

/** Rounds coordinates in geometry attributes to 2 decimals (smaller, identical-looking SVG). */
function trimNumbers(svg: string): string {
  return svg.replace(
    /(\s(?:d|x|y|x1|x2|y1|y2|cx|cy|width|height|transform|points|r|viewBox)=")([^"]*)"/g,
    (_m, head: string, value: string) => `${head}${value.replace(/(\d)\.(\d{2})\d+/g, "$1.$2")}"`,
  );
}

/** A legend placed above a plot. */
export type Legend =
  | { kind: "swatches"; items: { label: string; color: string }[]; line?: boolean; title?: string }
  | {
    kind: "ramp";
    scheme: Plot.ColorScheme;
    domain: [number, number];
    label: string;
  };

function swatchesSvg(
  legend: Extract<Legend, { kind: "swatches" }>,
  width: number,
): { svg: string; height: number } {
  const parts: string[] = [];
  let x = 0;
  let y = 0;
  if (legend.title) {
    parts.push(`<text x="0" y="${y + 10}" font-weight="bold">${esc(legend.title)}</text>`);
    x = textWidth(legend.title, 11) + 12;
  }
  for (const { label, color } of legend.items) {
    const w = 18 + textWidth(label, 11) + 16;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 18;
    }
    parts.push(
      legend.line
        ? `<line x1="${x}" x2="${x + 14}" y1="${y + 6}" y2="${
          y + 6
        }" stroke="${color}" stroke-width="3"/>`
        : `<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/>`,
      `<text x="${x + 18}" y="${y + 10}">${esc(label)}</text>`,
    );
    x += w;
  }
  return { svg: `<g font-size="11">${parts.join("")}</g>`, height: y + 22 };
}

/** "Nice" tick values covering [a, b] (about `count` of them). */
export function niceTicks(a: number, b: number, count = 5): number[] {
  if (!(b > a)) return [a];
  const raw = (b - a) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(a / step - 1e-9) * step; t <= b + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

function rampSvg(
  legend: Extract<Legend, { kind: "ramp" }>,
  id: string,
  room: number,
): { svg: string; height: number } {
  const [a, b] = legend.domain;
  const scale = Plot.scale({ color: { type: "linear", scheme: legend.scheme, domain: [a, b] } });
  const w = Math.max(120, Math.min(240, room - 30));
  const stops = Array.from({ length: 17 }, (_, i) => {
    const t = i / 16;
    return `<stop offset="${(100 * t).toFixed(2)}%" stop-color="${scale.apply(a + t * (b - a))}"/>`;
  }).join("");
  const ticks = b > a ? niceTicks(a, b, w > 200 ? 6 : 4) : [a];
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const label = (t: number) => t.toFixed(decimals).replace(/^-/, "\u2212");
  const tickSvg = ticks.map((t) => {
    const x = b > a ? ((t - a) / (b - a)) * w : 0;
    return `<line x1="${x.toFixed(2)}" x2="${
      x.toFixed(2)
    }" y1="16" y2="32" stroke="currentColor"/>` +
      `<text x="${x.toFixed(2)}" y="43" text-anchor="middle">${esc(label(t))}</text>`;
  }).join("");
  const gid = `ramp-${id}`;
  return {
    svg: `<g font-size="10"><defs><linearGradient id="${gid}" x1="0" x2="1" y1="0" y2="0">` +
      `${stops}</linearGradient></defs>` +
      `<text x="0" y="11" font-size="11">${esc(legend.label)}</text>` +
      `<rect x="0" y="16" width="${w}" height="12" fill="url(#${gid})"/>${tickSvg}</g>`,
    height: 50,
  };
}

/**
 * A chart before rendering: the Observable Plot options (sized), the legend
 * fuselab draws above it, and SVG drawn under its marks (an embedded image).
 * The report and the results API (`lib/report/api.ts`) draw from the same specs.
 */
export interface PlotSpec {
  /** Plot options without `document`; `width` and `height` in pixels. */
  options: Plot.PlotOptions & { width: number; height: number };
  /** The legend drawn above the plot, if any. */
  legend?: Legend;
  /** SVG inserted under the plot's marks (after its style element). */
  underlay?: string;
}

/** Renders a spec to a standalone SVG document (legend included, white background). */
export function renderSpec(id: string, spec: PlotSpec): string {
  return renderPlot(id, spec.options, spec.legend, spec.underlay);
}

/** Renders Plot options (without `document`) to a standalone SVG with an optional legend. */
export function renderPlot(
  id: string,
  options: Plot.PlotOptions & { width: number; height: number },
  legend?: Legend,
  underlay = "",
): string {
  const plot = Plot.plot({
    // inline size beats Plot's `height: auto` rule, which some viewers apply to nested SVGs
    style: { fontSize: "11px", width: `${options.width}px`, height: `${options.height}px` },
    ...options,
    document: document(),
  }) as unknown as SvgElement;
  const width = options.width;
  const pad = 8;
  const leg = legend
    ? legend.kind === "swatches"
      ? swatchesSvg(legend, width - 2 * pad - 40)
      : rampSvg(legend, id, width - 2 * pad - 40)
    : undefined;
  const top = pad + (leg ? leg.height + 4 : 0);
  plot.setAttribute("x", String(pad));
  plot.setAttribute("y", String(top));
  const W = width + 2 * pad;
  const H = top + options.height + pad;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `viewBox="0 0 ${W} ${H}" font-family="${FONT}" font-size="10" class="chart">` +
    `<rect width="${W}" height="${H}" fill="white"/>` +
    (leg ? `<g transform="translate(${pad + 40},${pad})">${leg.svg}</g>` : "") +
    (underlay ? plot.outerHTML.replace("</style>", `</style>${underlay}`) : plot.outerHTML) +
    `</svg>`;
  return trimNumbers(svg);
}

/** Left margin that fits the longest of some band labels. */
export function marginFor(labels: string[], min = 40, max = 320): number {
  return Math.round(Math.min(max, Math.max(min, ...labels.map((l) => textWidth(l) + 14))));
}

/** A color scale over variant labels in plan order. */
export function variantColors(labels: string[]): { domain: string[]; range: string[] } {
  return { domain: labels, range: labels.map((_, i) => PALETTE[i % PALETTE.length]) };
}

/** Labels of a log axis: 1, 2 and 5 times a power of ten, shortest form; others blank. */
export function logTick(d: number): string {
  if (!(d > 0)) return "";
  const m = d / 10 ** Math.floor(Math.log10(d) + 1e-9);
  return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? String(Number(d.toPrecision(6))) : "";
}

/** Points of one run's curve. */
export interface Series {
  label: string;
  runId: string;
  seed: number;
  points: { x: number; y: number }[];
}

/**
 * Curves per variant: each seed faint, the mean over seeds bold, and a
 * min–max band over seeds at each x; `logX` draws x on a base-2 log scale
 * with a tick at each x (evaluation lengths L, 2L, 4L, …).
 */
export function curvesPlot(
  series: Series[],
  labels: string[],
  axes: { x: string; y: string; logY?: boolean; logX?: boolean },
): PlotSpec {
  const agg: { label: string; x: number; mean: number; min: number; max: number; n: number }[] = [];
  for (const label of labels) {
    const byX = new Map<number, number[]>();
    for (const s of series.filter((s) => s.label === label)) {
      for (const p of s.points) {
        if (Number.isFinite(p.y)) byX.set(p.x, [...(byX.get(p.x) ?? []), p.y]);
      }
    }
    for (const [x, ys] of [...byX].sort((a, b) => a[0] - b[0])) {
      agg.push({
        label,
        x,
        mean: ys.reduce((s, y) => s + y, 0) / ys.length,
        min: Math.min(...ys),
        max: Math.max(...ys),
        n: ys.length,
      });
    }
  }
  const seedPts = series.flatMap((s) =>
    s.points.filter((p) => Number.isFinite(p.y)).map((p) => ({
      ...p,
      label: s.label,
      run: s.runId,
    }))
  );
  const ys = seedPts.map((p) => p.y);
  const xs = [...new Set(seedPts.map((p) => p.x))];
  const logY = axes.logY ?? (/loss|perplexity|ppl/i.test(axes.y) && ys.length > 0 &&
    Math.min(...ys) > 0 && Math.max(...ys) / Math.min(...ys) > 20);
  // a single y value (one evaluation, or a constant metric) would make a degenerate scale: pad it
  const flat = ys.length > 0 && Math.min(...ys) === Math.max(...ys);
  const pad = flat ? Math.abs(ys[0]) * 0.1 || 0.1 : 0;
  const colors = variantColors(labels);
  const sparse = agg.length <= 30 * Math.max(1, labels.length);
  return {
    options: {
      width: 880,
      height: 300,
      marginLeft: 56,
      marginRight: 20,
      grid: true,
      x: {
        label: axes.x,
        // a single x (one evaluation) would make a degenerate scale: pad it
        ...(xs.length === 1
          ? { domain: [xs[0] - 1, xs[0] + 1], ticks: xs, tickFormat: (d: number) => String(d) }
          : axes.logX && xs.every((x) => x > 0)
          ? { type: "log", base: 2, ticks: xs.sort((a, b) => a - b), tickFormat: String }
          : {}),
      },
      y: {
        label: axes.y,
        type: logY ? "log" : "linear",
        ...(flat ? { domain: [ys[0] - pad, ys[0] + pad] } : {}),
        ...(logY
          ? {
            tickFormat: logTick,
          }
          : {}),
      },
      color: colors,
      marks: [
        Plot.areaY(agg, {
          x: "x",
          y1: "min",
          y2: "max",
          fill: "label",
          fillOpacity: 0.14,
          z: "label",
        }),
        Plot.lineY(seedPts, {
          x: "x",
          y: "y",
          z: "run",
          stroke: "label",
          strokeOpacity: 0.3,
          strokeWidth: 1,
        }),
        Plot.lineY(agg, { x: "x", y: "mean", z: "label", stroke: "label", strokeWidth: 2.2 }),
        ...(sparse
          ? [Plot.dot(agg, {
            x: "x",
            y: "mean",
            fill: "label",
            r: 2.5,
            title: (d: { label: string; x: number; mean: number; n: number }) =>
              `${d.label}\n${axes.x} ${d.x}: ${fmt(d.mean)} (mean of ${d.n})`,
          })]
          : []),
      ],
    },
    legend: {
      kind: "swatches",
      items: labels.map((l, i) => ({ label: l, color: colors.range[i] })),
      line: true,
    },
  };
}

/** [`curvesPlot`] rendered to a standalone SVG document (the report's chart files). */
export function curvesChart(
  id: string,
  series: Series[],
  labels: string[],
  axes: { x: string; y: string; logY?: boolean },
): string {
  return renderSpec(id, curvesPlot(series, labels, axes));
}

/** One row of an interval chart: a label, a mean with interval, and the individual values. */
export interface IntervalRow {
  label: string;
  /** Colour key (a variant label). */
  color: string;
  mean: number;
  lo: number;
  hi: number;
  points: { value: number; title: string }[];
}

/**
 * Means (tick) with intervals (bar) and individual values (dots), one row
 * per label; a dashed zero line when `zero` is set (paired differences);
 * intervals cut to `clip` when given (a metric's possible range).
 */
export function intervalPlot(
  rows: IntervalRow[],
  colorLabels: string[],
  xLabel: string,
  zero = false,
  clip?: [number, number],
): PlotSpec {
  const colors = variantColors(colorLabels);
  const pts = rows.flatMap((r) => r.points.map((p) => ({ ...p, label: r.label, color: r.color })));
  const ci = rows.filter((r) => Number.isFinite(r.lo) && Number.isFinite(r.hi)).map((r) =>
    clip ? { ...r, lo: Math.max(clip[0], r.lo), hi: Math.min(clip[1], r.hi) } : r
  );
  return {
    options: {
      width: 880,
      height: 46 + 38 * rows.length,
      marginLeft: marginFor(rows.map((r) => r.label)),
      marginRight: 24,
      x: { label: xLabel, grid: true, ...(zero ? {} : {}) },
      y: { label: null, domain: rows.map((r) => r.label) },
      color: colors,
      marks: [
        ...(zero ? [Plot.ruleX([0], { stroke: "#555", strokeDasharray: "4,3" })] : []),
        Plot.ruleY(ci, { y: "label", x1: "lo", x2: "hi", stroke: "color", strokeWidth: 2.5 }),
        Plot.tickX(rows.filter((r) => Number.isFinite(r.mean)), {
          y: "label",
          x: "mean",
          stroke: "currentColor",
          strokeWidth: 2.5,
        }),
        Plot.dot(pts, {
          y: "label",
          x: "value",
          fill: "color",
          stroke: "white",
          r: 4.5,
          fillOpacity: 0.85,
          title: "title",
        }),
      ],
    },
  };
}

/** [`intervalPlot`] rendered to a standalone SVG document (the report's chart files). */
export function intervalChart(
  id: string,
  rows: IntervalRow[],
  colorLabels: string[],
  xLabel: string,
  zero = false,
  clip?: [number, number],
): string {
  return renderSpec(id, intervalPlot(rows, colorLabels, xLabel, zero, clip));
}

/** One value of an axis with the others averaged. */
export interface EffectRow {
  value: string;
  mean: number;
  lo: number;
  hi: number;
  seeds: { seed: number; value: number }[];
}

/** Metric by axis value: per-seed averages as grey dots, mean as a diamond, 95% interval bars. */
export function effectPlot(rows: EffectRow[], xLabel: string, yLabel: string): PlotSpec {
  const pts = rows.flatMap((r) => r.seeds.map((s) => ({ ...s, x: r.value })));
  return {
    options: {
      width: 420,
      height: 260,
      marginLeft: 56,
      marginBottom: 40,
      x: { label: xLabel, domain: rows.map((r) => r.value), type: "point", padding: 0.5 },
      y: { label: yLabel, grid: true },
      marks: [
        Plot.ruleX(rows.filter((r) => Number.isFinite(r.lo)), {
          x: "value",
          y1: "lo",
          y2: "hi",
          stroke: PALETTE[0],
          strokeWidth: 2.5,
        }),
        Plot.lineY(rows, { x: "value", y: "mean", stroke: PALETTE[0], strokeOpacity: 0.6 }),
        Plot.dot(pts, {
          x: "x",
          y: "value",
          fill: "#999",
          r: 3,
          dx: 8,
          title: (d: { seed: number; value: number }) => `seed ${d.seed}: ${fmt(d.value)}`,
        }),
        Plot.dot(rows.filter((r) => Number.isFinite(r.mean)), {
          x: "value",
          y: "mean",
          fill: PALETTE[0],
          r: 5,
          symbol: "diamond",
          title: (r: EffectRow) => `mean ${fmt(r.mean)}`,
        }),
      ],
    },
  };
}

/** [`effectPlot`] rendered to a standalone SVG document (the report's chart files). */
export function effectChart(
  id: string,
  rows: EffectRow[],
  xLabel: string,
  yLabel: string,
): string {
  return renderSpec(id, effectPlot(rows, xLabel, yLabel));
}

/** A heatmap of categorical rows × columns with the value written in each cell. */
export function gridHeatmapPlot(
  cells: { row: string; col: string; mean: number; n: number }[],
  axes: { row: string; col: string; rows: string[]; cols: string[]; value: string },
): PlotSpec {
  const vals = cells.map((c) => c.mean).filter(Number.isFinite);
  const domain: [number, number] = vals.length ? [Math.min(...vals), Math.max(...vals)] : [0, 1];
  if (domain[0] === domain[1]) domain[1] = domain[0] + 1e-9;
  const mid = (domain[0] + domain[1]) / 2;
  const ml = marginFor(axes.rows, 60);
  return {
    options: {
      width: Math.max(
        340,
        Math.min(
          760,
          ml + 30 + Math.max(90, ...axes.cols.map((c) => textWidth(c) + 20)) * axes.cols.length,
        ),
      ),
      height: Math.max(180, 60 + 44 * axes.rows.length),
      marginLeft: ml,
      marginTop: 30,
      x: { label: axes.col, domain: axes.cols, axis: "top" },
      y: { label: axes.row, domain: axes.rows },
      color: { type: "linear", scheme: "viridis", domain },
      marks: [
        Plot.cell(cells.filter((c) => Number.isFinite(c.mean)), {
          x: "col",
          y: "row",
          fill: "mean",
          inset: 1,
        }),
        Plot.text(cells, {
          x: "col",
          y: "row",
          text: (c: { mean: number; n: number }) => `${fmt(c.mean)}\nn=${c.n}`,
          fill: (
            c: { mean: number },
          ) => (Number.isFinite(c.mean) && c.mean < mid ? "white" : "black"),
          fontSize: 11,
        }),
      ],
    },
    legend: { kind: "ramp", scheme: "viridis", domain, label: axes.value },
  };
}

/** [`gridHeatmapPlot`] rendered to a standalone SVG document (the report's chart files). */
export function gridHeatmap(
  id: string,
  cells: { row: string; col: string; mean: number; n: number }[],
  axes: { row: string; col: string; rows: string[]; cols: string[]; value: string },
): string {
  return renderSpec(id, gridHeatmapPlot(cells, axes));
}

/**
 * Nearest-neighbour scaling for browsers. resvg reads this CSS value as
 * "smooth", so `svgToPng` removes it and keeps the `optimizeSpeed` attribute,
 * which resvg (but not Chromium) scales without smoothing.
 */
export const PIXELATED = `style="image-rendering: pixelated"`;

/**
 * A numeric matrix as an image (row 0 at the top), one pixel per cell in an
 * embedded PNG scaled without smoothing, with axes and a continuous legend.
 */
export function matrixPlot(
  matrix: number[][],
  opts: { x: string; y: string; value: string; diverging?: boolean; width?: number },
): PlotSpec {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of matrix) {
    for (const v of row) {
      if (!Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo > hi) [lo, hi] = [0, 1];
  let domain: [number, number] = [lo, hi === lo ? lo + 1e-9 : hi];
  let scheme: Plot.ColorScheme = "viridis";
  if (opts.diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    domain = [-m, m];
    scheme = "rdbu";
  }
  const rows = matrix.length;
  const cols = Math.max(1, ...matrix.map((r) => r.length));
  const width = opts.width ?? 360;
  const [ml, mr, mt, mb] = [46, 14, 22, 36];
  const inner = width - ml - mr;
  const height = Math.max(150, Math.min(420, Math.round(inner * rows / cols))) + mt + mb;
  const color = Plot.scale({ color: { type: "linear", scheme, domain } });
  const uri = matrixDataUri(matrix, (v) => String(color.apply(v)));
  const image = `<image x="${ml}" y="${mt}" width="${inner}" height="${height - mt - mb}" ` +
    `preserveAspectRatio="none" image-rendering="optimizeSpeed" ${PIXELATED} href="${uri}"/>`;
  return {
    options: {
      width,
      height,
      marginLeft: ml,
      marginRight: mr,
      marginTop: mt,
      marginBottom: mb,
      // integer ticks at cell centres: cell i spans [i − ½, i + ½]
      x: { label: opts.x, domain: [-0.5, cols - 0.5], tickFormat: "d" },
      y: { label: opts.y, domain: [-0.5, rows - 0.5], reverse: true, tickFormat: "d" },
      marks: [Plot.frame({ stroke: "#999" })],
    },
    legend: { kind: "ramp", scheme, domain, label: opts.value },
    underlay: image,
  };
}

/** [`matrixPlot`] rendered to a standalone SVG document (the report's chart files). */
export function matrixChart(
  id: string,
  matrix: number[][],
  opts: { x: string; y: string; value: string; diverging?: boolean; width?: number },
): string {
  return renderSpec(id, matrixPlot(matrix, opts));
}

/** Attention weights of one sample: a grid of layers (rows) × heads (columns). */
export function attentionPlot(
  tokens: string[],
  layers: { layer: string; heads: number[][][] }[],
): PlotSpec {
  const cells: { layer: string; head: string; q: number; k: number; w: number }[] = [];
  for (const l of layers) {
    l.heads.forEach((m, h) =>
      m.forEach((row, q) =>
        row.forEach((w, k) => {
          if (Number.isFinite(w)) cells.push({ layer: l.layer, head: `head ${h + 1}`, q, k, w });
        })
      )
    );
  }
  const heads = Math.max(1, ...layers.map((l) => l.heads.length));
  const n = Math.max(1, tokens.length, ...cells.map((c) => Math.max(c.q, c.k) + 1));
  const idx = Array.from({ length: n }, (_, i) => i);
  const label = (i: number) => tokens[i] ?? String(i);
  const every = Math.ceil(n / 16);
  const facet = Math.max(90, Math.min(180, Math.floor(700 / heads)));
  const longest = Math.max(1, ...tokens.map((t) => t.length));
  const rotate = longest > 2;
  const ml = 40 + Math.min(80, textWidth("x".repeat(longest)));
  const mb = rotate ? 20 + Math.min(80, textWidth("x".repeat(longest))) : 34;
  return {
    options: {
      width: ml + 64 + facet * heads,
      height: 30 + mb + facet * layers.length,
      marginLeft: ml,
      marginRight: 64,
      marginBottom: mb,
      marginTop: 30,
      x: {
        label: "key",
        domain: idx,
        tickFormat: label,
        ticks: idx.filter((i) => i % every === 0),
        tickRotate: rotate ? -90 : 0,
      },
      y: {
        label: "query",
        domain: idx,
        tickFormat: label,
        ticks: idx.filter((i) => i % every === 0),
      },
      fx: { label: null, domain: Array.from({ length: heads }, (_, h) => `head ${h + 1}`) },
      fy: { label: null, domain: layers.map((l) => l.layer) },
      color: { type: "linear", scheme: "blues", domain: [0, 1] },
      marks: [
        Plot.cell(cells, {
          x: "k",
          y: "q",
          fx: "head",
          fy: "layer",
          fill: "w",
          stroke: "w",
          strokeWidth: 0.6,
          inset: 0,
        }),
        Plot.frame({ stroke: "#bbb" }),
      ],
    },
    legend: { kind: "ramp", scheme: "blues", domain: [0, 1], label: "attention weight" },
  };
}

/** [`attentionPlot`] rendered to a standalone SVG document (the report's chart files). */
export function attentionChart(
  id: string,
  tokens: string[],
  layers: { layer: string; heads: number[][][] }[],
): string {
  return renderSpec(id, attentionPlot(tokens, layers));
}

/** Gate activations per modality (box plots), split by which modality carried the signal. */
export function gatesPlot(
  samples: { modality: string; gate: number; signal?: string }[],
  modalities: string[],
): PlotSpec {
  const signals = [
    ...modalities.filter((m) => samples.some((s) => s.signal === m)),
    ...new Set(
      samples.map((s) => s.signal).filter((s): s is string =>
        s !== undefined && !modalities.includes(s)
      ),
    ),
  ];
  const facets = signals.length > 0;
  const colors = variantColors(modalities);
  const ml = marginFor(modalities, 50);
  return {
    options: {
      width: 880,
      height: 50 + (facets ? signals.length : 1) * (30 * modalities.length + 24),
      marginLeft: ml,
      marginRight: facets ? 130 : 20,
      x: { label: "gate activation", domain: [0, 1], grid: true },
      y: { label: null, domain: modalities },
      ...(facets ? { fy: { label: "signal carried by", domain: signals } } : {}),
      color: colors,
      marks: [
        Plot.boxX(samples, {
          x: "gate",
          y: "modality",
          ...(facets ? { fy: "signal" } : {}),
          fill: "modality",
          fillOpacity: 0.5,
          r: 1.5,
        }),
      ],
    },
  };
}

/** [`gatesPlot`] rendered to a standalone SVG document (the report's chart files). */
export function gatesChart(
  id: string,
  samples: { modality: string; gate: number; signal?: string }[],
  modalities: string[],
): string {
  return renderSpec(id, gatesPlot(samples, modalities));
}
