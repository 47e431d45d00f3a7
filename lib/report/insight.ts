/**
 * Model insight from run artifacts (`artifacts/<name>.json`, see
 * `ARTIFACTS` in lib/experiment/results.ts): positional-encoding tables as
 * images with their position-similarity matrix, attention maps per layer
 * and head, GMU gate distributions per modality split by the informative
 * modality, and metric-by-evaluation-length curves.
 *
 * @module
 */
import { labelOf, usable, valueText, type Variant } from "./analysis.ts";
import {
  attentionChart,
  type Chart,
  curvesChart,
  gatesChart,
  matrixChart,
  type Series,
} from "./charts.ts";
import { esc, fmt } from "./format.ts";
import { figure, slug } from "./html.ts";
import type { ExperimentData, RunData } from "./load.ts";

/** Most variants that get their own insight charts (the rest are named in a note). */
const MAX_INSIGHT_VARIANTS = 8;
/** Largest side of a matrix image (positions or dimensions beyond are cut). */
const MAX_SIDE = 64;

function firstWith(v: Variant, name: string): RunData | undefined {
  const sorted = [...v.runs].sort((a, b) =>
    Number(usable(b)) - Number(usable(a)) || a.run.seed - b.run.seed
  );
  return sorted.find((r) => r.artifacts[name] !== undefined);
}

function isMatrix(x: unknown): x is number[][] {
  return Array.isArray(x) && x.length > 0 && x.every((r) => Array.isArray(r));
}

function cosineSimilarity(m: number[][]): number[][] {
  const norms = m.map((r) => Math.sqrt(r.reduce((s, v) => s + v * v, 0)) || 1);
  return m.map((a, i) =>
    m.map((b, j) => a.reduce((s, v, k) => s + v * (b[k] ?? 0), 0) / (norms[i] * norms[j]))
  );
}

/**
 * The "Model insight" section: positional tables and their position
 * similarity, attention maps, GMU gates and length-generalization curves,
 * for the artifacts that runs recorded. Charts go through `add`.
 */
export function insightSection(
  data: ExperimentData,
  variants: Variant[],
  labels: string[],
  pName: string,
  add: (c: Chart) => Chart,
): string {
  const parts: string[] = [];
  const shown = variants.slice(0, MAX_INSIGHT_VARIANTS);
  const cutNote = variants.length > shown.length
    ? `<p class="note">Insight charts for the first ${shown.length} of ${variants.length} variants.</p>`
    : "";
  const vi = (v: Variant) => variants.indexOf(v);

  // positional encodings (identical tables, e.g. the sinusoid across other axes, drawn once)
  const pos: string[] = [];
  const seenMatrices = new Map<string, string>();
  for (const v of shown) {
    const r = firstWith(v, "positional");
    if (!r) continue;
    const a = r.artifacts.positional as { kind?: string; matrix?: unknown };
    if (!isMatrix(a.matrix)) continue;
    const full = a.matrix as number[][];
    const sig = JSON.stringify(full);
    const same = seenMatrices.get(sig);
    if (same) {
      pos.push(
        `<p class="note">${esc(v.label)}: the same ${esc(a.kind ?? "")} table as ${esc(same)}.</p>`,
      );
      continue;
    }
    seenMatrices.set(sig, v.label);
    const cut = full.slice(0, MAX_SIDE).map((row) => row.slice(0, MAX_SIDE));
    const cutText = full.length > MAX_SIDE || (full[0]?.length ?? 0) > MAX_SIDE
      ? ` Shown: the first ${cut.length} of ${full.length} positions, ${cut[0].length} of ` +
        `${full[0].length} dimensions.`
      : "";
    const kind = a.kind ?? "positional";
    const e = add({
      id: `positional-${vi(v)}`,
      title: `${v.label}: ${kind} encoding`,
      caption:
        `Encoding value per position (rows) and dimension (columns), seed ${r.run.seed}.${cutText}`,
      svg: matrixChart(`positional-${vi(v)}`, cut, {
        width: 420,
        x: "dimension",
        y: "position",
        value: "encoding value",
        diverging: true,
      }),
    });
    const sim = cosineSimilarity(full.slice(0, MAX_SIDE));
    const s = add({
      id: `similarity-${vi(v)}`,
      title: `${v.label}: position similarity`,
      caption:
        `Cosine similarity between the encodings of two positions (all dimensions), seed ${r.run.seed}.`,
      svg: matrixChart(`similarity-${vi(v)}`, sim, {
        width: 420,
        x: "position",
        y: "position",
        value: "cosine similarity",
        diverging: true,
      }),
    });
    pos.push(`<div class="row">${figure(e)}${figure(s)}</div>`);
  }
  if (pos.length) parts.push(`<h3>Positional encodings</h3>${pos.join("")}`);

  // attention maps
  const att: string[] = [];
  for (const v of shown) {
    const r = firstWith(v, "attention");
    if (!r) continue;
    const a = r.artifacts.attention as {
      tokens?: unknown[];
      layers?: { layer: unknown; heads: unknown }[];
    };
    if (!Array.isArray(a.layers)) continue;
    const layers = a.layers.filter((l) => Array.isArray(l.heads)).slice(0, 4).map((l) => ({
      layer: typeof l.layer === "number" ? `layer ${l.layer}` : valueText(l.layer),
      heads: (l.heads as number[][][]).slice(0, 8),
    }));
    if (!layers.length) continue;
    const tokens = (a.tokens ?? []).map((t) => valueText(t));
    const id = `attention-${vi(v)}`;
    att.push(figure(add({
      id,
      title: `${v.label}: attention for one sample`,
      caption: `Attention weights per head (columns) and layer (rows) for the sample ` +
        `<code>${esc(tokens.join(" "))}</code>, seed ${r.run.seed}. Row: query position; ` +
        `column: key position.` +
        (a.layers.length > layers.length
          ? ` First ${layers.length} of ${a.layers.length} layers.`
          : ""),
      svg: attentionChart(id, tokens, layers),
    })));
  }
  if (att.length) parts.push(`<h3>Attention maps</h3>${att.join("")}`);

  // GMU gates
  const gates: string[] = [];
  for (const v of shown) {
    const withGates = v.runs.filter((r) => r.artifacts.gates !== undefined);
    const done = withGates.filter(usable);
    const runs = done.length ? done : withGates;
    if (!runs.length) continue;
    const samples: { modality: string; gate: number; signal?: string }[] = [];
    let modalities: string[] = [];
    for (const r of runs) {
      const g = r.artifacts.gates as {
        modalities?: string[];
        values?: number[][];
        informative?: number[];
      };
      if (!Array.isArray(g.modalities) || !Array.isArray(g.values)) continue;
      modalities = g.modalities;
      g.values.forEach((row, i) => {
        const inf = g.informative?.[i];
        row.forEach((gate, k) => {
          if (!Number.isFinite(gate)) return;
          samples.push({
            modality: g.modalities![k] ?? String(k),
            gate,
            ...(inf !== undefined ? { signal: g.modalities![inf] ?? String(inf) } : {}),
          });
        });
      });
    }
    if (!samples.length) continue;
    const id = `gates-${vi(v)}`;
    const signals = modalities.filter((mod) => samples.some((s) => s.signal === mod));
    const means = signals.map((sig) =>
      `signal in ${sig}: ` + modalities.map((mod) => {
        const xs = samples.filter((s) => s.signal === sig && s.modality === mod).map((s) => s.gate);
        return `${mod} ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length)}`;
      }).join(", ")
    );
    gates.push(figure(add({
      id,
      title: `${v.label}: gate activation per modality`,
      caption: `GMU gate activations over evaluation samples, pooled over ${runs.length} ` +
        `${done.length ? "finished " : ""}run(s)` +
        (signals.length
          ? `, split by which modality carried the signal. Mean gate — ${esc(means.join("; "))}.`
          : ".") +
        ` Box: quartiles; whiskers: 1.5 IQR; dots: outliers.`,
      svg: gatesChart(id, samples, modalities),
    })));
  }
  if (gates.length) parts.push(`<h3>Gated multimodal unit: gates</h3>${gates.join("")}`);

  // length generalization
  const lenRuns = data.runs.filter((r) =>
    r.artifacts.length_generalization !== undefined && usable(r)
  );
  const lenMetrics = new Set<string>();
  for (const r of lenRuns) {
    const a = r.artifacts.length_generalization as { metrics?: Record<string, unknown> };
    for (const k of Object.keys(a.metrics ?? {})) lenMetrics.add(k);
  }
  const ordered = [...lenMetrics].sort((a, b) =>
    Number(b === pName) - Number(a === pName) || a.localeCompare(b)
  ).slice(0, 3);
  for (const metric of ordered) {
    const series: Series[] = lenRuns.map((r) => {
      const a = r.artifacts.length_generalization as {
        lengths?: number[];
        metrics?: Record<string, number[]>;
      };
      const ys = a.metrics?.[metric] ?? [];
      return {
        label: labelOf(variants, r),
        runId: r.run.id,
        seed: r.run.seed,
        points: (a.lengths ?? []).map((x, i) => ({ x, y: ys[i] })).filter((p) =>
          typeof p.y === "number"
        ),
      };
    }).filter((s) => s.points.length);
    if (!series.length) continue;
    const id = `length-${slug(metric)}`;
    parts.push(
      (parts.some((p) => p.startsWith("<h3>Length")) ? "" : "<h3>Length generalization</h3>") +
        figure(add({
          id,
          title: `${metric} by evaluation length`,
          caption:
            `Bold: mean over seeds; band: min–max over seeds; faint: seeds (done runs only).`,
          svg: curvesChart(id, series, labels, { x: "evaluation length", y: metric, logY: false }),
        })),
    );
  }

  // the same per output position (optional `positions` / `byPosition` of the artifact)
  const posMetrics = new Set<string>();
  for (const r of lenRuns) {
    const a = r.artifacts.length_generalization as { byPosition?: Record<string, unknown> };
    for (const k of Object.keys(a.byPosition ?? {})) posMetrics.add(k);
  }
  for (const metric of [...posMetrics].sort().slice(0, 2)) {
    const series: Series[] = lenRuns.map((r) => {
      const a = r.artifacts.length_generalization as {
        positions?: number[];
        byPosition?: Record<string, (number | null)[]>;
        trainLength?: number;
      };
      const ys = a.byPosition?.[metric] ?? [];
      return {
        label: labelOf(variants, r),
        runId: r.run.id,
        seed: r.run.seed,
        points: (a.positions ?? []).map((x, i) => ({ x, y: ys[i] as number })).filter((p) =>
          typeof p.y === "number"
        ),
      };
    }).filter((s) => s.points.length);
    if (!series.length) continue;
    const trained = lenRuns.map((r) =>
      (r.artifacts.length_generalization as { trainLength?: unknown }).trainLength
    ).find((x) => typeof x === "number");
    const id = `position-${slug(metric)}`;
    parts.push(
      (parts.some((p) => p.startsWith("<h3>Length")) ? "" : "<h3>Length generalization</h3>") +
        figure(add({
          id,
          title: `${metric} by output position`,
          caption: `Pooled over every evaluation sequence that reaches the position` +
            (trained !== undefined
              ? `; training outputs were at most ${trained} tokens long, so positions beyond ` +
                `${trained} were never produced in training`
              : "") +
            `. Bold: mean over seeds; band: min–max over seeds; faint: seeds (done runs only).`,
          svg: curvesChart(id, series, labels, { x: "output position", y: metric, logY: false }),
        })),
    );
  }

  return `<section id="insight"><h2>Model insight</h2>` +
    (parts.length
      ? cutNote + parts.join("")
      : `<p class="note">No run recorded insight artifacts ` +
        `(positional, attention, gates, length_generalization).</p>`) +
    `</section>`;
}
