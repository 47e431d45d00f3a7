/**
 * Model insight from run artifacts (`artifacts/<name>.json`, see
 * `ARTIFACTS` in lib/contract/results.ts): positional-encoding tables as
 * images with their position-similarity matrix, attention maps per layer
 * and head, GMU gate distributions per modality split by the informative
 * modality (and, where recorded, the mean gate share per view per group, e.g.
 * per genre: lib/report/gate_groups.ts), and metric-by-evaluation-length curves.
 *
 * @module
 */
import type { Variant } from "./analysis.ts";
import { attentionChart, type Chart, gatesChart, renderSpec } from "./charts.ts";
import {
  attentionInput,
  gatesInput,
  lengthMetrics,
  lengthPlot,
  lengthRuns,
  lengthSeries,
  MAX_SIDE,
  positionalInput,
  positionalPlot,
  positionMetrics,
  positionPlot,
  positionSeries,
  similarityPlot,
} from "./figures.ts";
import { esc, fmt } from "./format.ts";
import { lengthInfo, lengthTable } from "./length_table.ts";
import { figure, slug } from "./html.ts";
import type { ExperimentData } from "./load.ts";
import { gateGroupFigures } from "./gate_groups.ts";

/** Most variants that get their own insight charts (the rest are named in a note). */
const MAX_INSIGHT_VARIANTS = 8;

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
    const input = positionalInput(v);
    if (!input) continue;
    const { run: r, kind, full, cut } = input;
    const sig = JSON.stringify(full);
    const same = seenMatrices.get(sig);
    if (same) {
      pos.push(
        `<p class="note">${esc(v.label)}: the same ${esc(input.kind ?? "")} table as ${
          esc(same)
        }.</p>`,
      );
      continue;
    }
    seenMatrices.set(sig, v.label);
    const cutText = full.length > MAX_SIDE || (full[0]?.length ?? 0) > MAX_SIDE
      ? ` Shown: the first ${cut.length} of ${full.length} positions, ${cut[0].length} of ` +
        `${full[0].length} dimensions.`
      : "";
    const e = add({
      id: `positional-${vi(v)}`,
      title: `${v.label}: ${kind ?? "positional"} encoding`,
      caption:
        `Encoding value per position (rows) and dimension (columns), seed ${r.run.seed}.${cutText}`,
      svg: renderSpec(`positional-${vi(v)}`, positionalPlot(cut)),
    });
    const s = add({
      id: `similarity-${vi(v)}`,
      title: `${v.label}: position similarity`,
      caption:
        `Cosine similarity between the encodings of two positions (all dimensions), seed ${r.run.seed}.`,
      svg: renderSpec(`similarity-${vi(v)}`, similarityPlot(full)),
    });
    pos.push(`<div class="row">${figure(e)}${figure(s)}</div>`);
  }
  if (pos.length) parts.push(`<h3>Positional encodings</h3>${pos.join("")}`);

  // attention maps
  const att: string[] = [];
  for (const v of shown) {
    const input = attentionInput(v);
    if (!input) continue;
    const { run: r, tokens, layers, recorded } = input;
    const id = `attention-${vi(v)}`;
    att.push(figure(add({
      id,
      title: `${v.label}: attention for one sample`,
      caption: `Attention weights per head (columns) and layer (rows) for the sample ` +
        `<code>${esc(tokens.join(" "))}</code>, seed ${r.run.seed}. Row: query position; ` +
        `column: key position.` +
        (recorded > layers.length ? ` First ${layers.length} of ${recorded} layers.` : ""),
      svg: attentionChart(id, tokens, layers),
    })));
  }
  if (att.length) parts.push(`<h3>Attention maps</h3>${att.join("")}`);

  // GMU gates
  const gates: string[] = [];
  for (const v of shown) {
    const input = gatesInput(v);
    if (!input) continue;
    const { runs, finished, samples, modalities } = input;
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
        `${finished ? "finished " : ""}run(s)` +
        (signals.length
          ? `, split by which modality carried the signal. Mean gate — ${esc(means.join("; "))}.`
          : ".") +
        ` Box: quartiles; whiskers: 1.5 IQR; dots: outliers.`,
      svg: gatesChart(id, samples, modalities),
    })));
  }
  gates.push(...gateGroupFigures(shown, vi, add));
  if (gates.length) parts.push(`<h3>Gated multimodal unit: gates</h3>${gates.join("")}`);

  parts.push(...lengthInsight(data, variants, labels, pName, add));

  return `<section id="insight"><h2>Model insight</h2>` +
    (parts.length
      ? cutNote + parts.join("")
      : `<p class="note">No run recorded insight artifacts ` +
        `(positional, attention, gates, length_generalization).</p>`) +
    `</section>`;
}

/**
 * Length generalization: up to three metrics by evaluation length (the
 * primary first; a language model's lengths on a log-2 axis, with its notes
 * and table), then up to two metrics by output position.
 */
function lengthInsight(
  data: ExperimentData,
  variants: Variant[],
  labels: string[],
  pName: string,
  add: (c: Chart) => Chart,
): string[] {
  const out: string[] = [];
  // length generalization
  const ordered = lengthMetrics(data, pName).slice(0, 3);
  // What the task says about its evaluation (language models: method, tokens, notes).
  const lenRuns = lengthRuns(data);
  const lenInfo = lengthInfo(variants, lenRuns);
  for (const metric of ordered) {
    const series = lengthSeries(data, variants, metric);
    if (!series.length) continue;
    const id = `length-${slug(metric)}`;
    out.push(
      (out.length > 0 ? "" : "<h3>Length generalization</h3>") +
        figure(add({
          id,
          title: `${metric} by evaluation length`,
          caption:
            `Bold: mean over seeds; band: min–max over seeds; faint: seeds (done runs only).` +
            lenInfo.caption,
          svg: renderSpec(
            id,
            lengthPlot(series, labels, metric, lenInfo.trainLength !== undefined),
          ),
        })) + (metric === ordered[0] ? lenInfo.notes + lengthTable(variants, lenRuns, metric) : ""),
    );
  }

  // the same per output position (optional `positions` / `byPosition` of the artifact)
  for (const metric of positionMetrics(data).slice(0, 2)) {
    const series = positionSeries(data, variants, metric);
    if (!series.length) continue;
    const trained = lenRuns.map((r) =>
      (r.artifacts.length_generalization as { trainLength?: unknown }).trainLength
    ).find((x) => typeof x === "number");
    const id = `position-${slug(metric)}`;
    out.push(
      (out.length > 0 ? "" : "<h3>Length generalization</h3>") +
        figure(add({
          id,
          title: `${metric} by output position`,
          caption: `Pooled over every evaluation sequence that reaches the position` +
            (trained !== undefined
              ? `; training outputs were at most ${trained} tokens long, so positions beyond ` +
                `${trained} were never produced in training`
              : "") +
            `. Bold: mean over seeds; band: min–max over seeds; faint: seeds (done runs only).`,
          svg: renderSpec(id, positionPlot(series, labels, metric)),
        })),
    );
  }
  return out;
}
