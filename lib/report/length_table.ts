/**
 * What the report adds under a length curve when the runs' artifacts say
 * more than lengths and values (the language-model task does): the
 * evaluation method, split, training length and tokens per length as a
 * caption; notes such as a length a learned table cannot represent, per
 * variant; and a table of the metric at each length, mean ± 95 % interval
 * over seeds, with the ratio to the training length.
 *
 * @module
 */
import { labelOf, type Variant } from "./analysis.ts";
import { esc, fmt, fmtPm } from "./format.ts";
import { slug, table } from "./html.ts";
import type { RunData } from "./load.ts";
import { summarize } from "./stats.ts";

/** The `length_generalization` artifact with the optional fields of the language-model task. */
export interface LengthArtifact {
  lengths?: number[];
  metrics?: Record<string, (number | null)[]>;
  split?: string;
  trainLength?: number;
  tokens?: number;
  method?: string;
  notes?: string[];
}

/**
 * The evaluation facts that length artifacts state (the method, the tokens
 * per length, the training length) as a caption, and their notes (a length
 * a variant cannot represent) per variant.
 */
export function lengthInfo(
  variants: Variant[],
  runs: RunData[],
): { caption: string; notes: string; trainLength?: number } {
  const arts = runs.map((r) => r.artifacts.length_generalization as LengthArtifact);
  const methods = [...new Set(arts.map((a) => a.method).filter((m) => typeof m === "string"))];
  const tokens = [...new Set(arts.map((a) => a.tokens).filter((t) => typeof t === "number"))];
  const splits = [...new Set(arts.map((a) => a.split).filter((t) => typeof t === "string"))];
  const trains = [...new Set(arts.map((a) => a.trainLength).filter((t) => typeof t === "number"))];
  const notes = new Map<string, Set<string>>();
  runs.forEach((r, i) => {
    for (const n of arts[i].notes ?? []) {
      const label = labelOf(variants, r);
      notes.set(label, (notes.get(label) ?? new Set()).add(n));
    }
  });
  const caption = (splits.length ? ` Split: ${esc(splits.join(", "))}.` : "") +
    (trains.length ? ` Trained at length ${esc(trains.join(", "))}.` : "") +
    (tokens.length ? ` Tokens scored per length: ${esc(tokens.join(", "))}.` : "") +
    (methods.length ? ` Method: ${esc(methods.join("; "))}.` : "");
  const noteHtml = [...notes].map(([label, ns]) =>
    `<p class="note">${esc(label)}: ${
      esc([...ns].join("; "))
    } (not representable: shown as a gap).</p>`
  ).join("");
  return { caption, notes: noteHtml, ...(trains.length === 1 ? { trainLength: trains[0] } : {}) };
}

/**
 * Mean ± 95 % t-interval over seeds of a metric at each evaluation length,
 * per variant, and (where the artifacts name the training length L) the
 * ratio to its value at L, seed by seed: the numbers behind the curve.
 */
export function lengthTable(variants: Variant[], runs: RunData[], metric: string): string {
  const arts = runs.map((r) => r.artifacts.length_generalization as LengthArtifact);
  const lengths = [...new Set(arts.flatMap((a) => a.lengths ?? []))].sort((a, b) => a - b);
  const L = arts[0]?.trainLength;
  if (!lengths.length) return "";
  const cell = (xs: number[], runsOfVariant: number) => {
    if (!runsOfVariant) return "–";
    if (!xs.length) return { html: "not representable", cls: "text" };
    const s = summarize(xs);
    return xs.length > 1 ? fmtPm(s.mean, s.half) : fmt(s.mean);
  };
  const valueAt = (a: LengthArtifact, n: number) => {
    const i = (a.lengths ?? []).indexOf(n);
    const v = i < 0 ? undefined : a.metrics?.[metric]?.[i];
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  };
  const rows = variants.map((v) => {
    const mine = runs.map((r, i) => [r, arts[i]] as const).filter(([r]) =>
      labelOf(variants, r) === v.label
    ).map(([, a]) => a);
    const at = (n: number) => mine.map((a) => valueAt(a, n)).filter((x) => x !== undefined);
    const ratio = (n: number) =>
      mine.map((a) => {
        const x = valueAt(a, n), base = L === undefined ? undefined : valueAt(a, L);
        return x !== undefined && base !== undefined ? x / base : undefined;
      }).filter((x) => x !== undefined);
    const ratioCells = L === undefined
      ? []
      : lengths.filter((n) => n !== L).map((n) => cell(ratio(n), mine.length));
    return [
      { html: esc(v.label), cls: "text" },
      ...lengths.map((n) => cell(at(n), mine.length)),
      ...ratioCells,
    ];
  }).filter((r) => r.length > 1);
  const head = [
    "variant",
    ...lengths.map((n) => `${metric} @${n}`),
    ...(L === undefined ? [] : lengths.filter((n) => n !== L).map((n) => `@${n} / @${L}`)),
  ];
  return table(`length-table-${slug(metric)}`, head, rows) +
    `<p class="note">${esc(metric)} by evaluation length: mean ± 95 % t-interval over seeds ` +
    `(done runs only)` +
    (L === undefined ? "" : `; ratios to length ${L} per seed, then averaged`) +
    `.</p>`;
}
