/**
 * Which view a GMU's gates favour per group of samples (e.g. per genre), from
 * `gates` artifacts that carry `groups` (see lib/experiment/results.ts). A
 * sample's gate share for view m is g_m / Σ_j g_j (g: its mean gate activation
 * per view; for a bimodal GMU the gates are z and 1 − z); a cell is the mean
 * share over the group's samples, pooled over the variant's runs.
 *
 * @module
 */
import { usable, type Variant } from "./analysis.ts";
import { type Chart, gridHeatmap } from "./charts.ts";
import { esc, fmt } from "./format.ts";
import { figure } from "./html.ts";

/** Mean gate share per (group, view) of one variant's runs. */
export interface GroupShares {
  /** Name of the grouping, e.g. "genre". */
  name: string;
  views: string[];
  /** Groups that have samples, in the artifact's order. */
  groups: string[];
  /** shares[g][m]: mean share of view m over group g's samples. */
  shares: number[][];
  /** Samples per group (pooled over runs). */
  counts: number[];
  runs: number;
}

interface GatesArtifact {
  modalities?: string[];
  values?: number[][];
  groups?: { name?: string; names?: string[]; of?: number[] };
}

/** The mean gate share per group and view over a variant's runs (finished ones when any). */
export function groupShares(v: Variant): GroupShares | undefined {
  const withGroups = v.runs.filter((r) => {
    const g = r.artifacts.gates as GatesArtifact | undefined;
    return Array.isArray(g?.values) && Array.isArray(g?.groups?.of) && Array.isArray(g?.modalities);
  });
  const done = withGroups.filter(usable);
  const runs = done.length ? done : withGroups;
  if (!runs.length) return undefined;
  const first = runs[0].artifacts.gates as GatesArtifact;
  const views = first.modalities!;
  const names = first.groups!.names ?? [];
  const sum = names.map(() => views.map(() => 0));
  const count = names.map(() => 0);
  for (const r of runs) {
    const g = r.artifacts.gates as GatesArtifact;
    g.values!.forEach((row, i) => {
      const k = g.groups!.of![i];
      if (k === undefined || !(k in sum) || row.length !== views.length) return;
      const s = row.reduce((a, b) => a + b, 0);
      if (!(s > 0) || !row.every(Number.isFinite)) return;
      row.forEach((x, m) => (sum[k][m] += x / s));
      count[k]++;
    });
  }
  const keep = names.map((_, k) => k).filter((k) => count[k] > 0);
  if (!keep.length) return undefined;
  return {
    name: first.groups!.name ?? "group",
    views,
    groups: keep.map((k) => names[k]),
    shares: keep.map((k) => sum[k].map((x) => x / count[k])),
    counts: keep.map((k) => count[k]),
    runs: runs.length,
  };
}

/** Figures "mean gate share per view per group", one per variant that recorded groups. */
export function gateGroupFigures(
  variants: Variant[],
  index: (v: Variant) => number,
  add: (c: Chart) => Chart,
): string[] {
  const out: string[] = [];
  for (const v of variants) {
    const s = groupShares(v);
    if (!s) continue;
    const favoured = s.groups.map((g, k) => {
      const m = s.shares[k].indexOf(Math.max(...s.shares[k]));
      return `${g}: ${s.views[m]} (${fmt(s.shares[k][m])})`;
    });
    const peaks = s.views.map((view, m) => {
      const col = s.shares.map((row) => row[m]);
      const k = col.indexOf(Math.max(...col));
      return `${view} in ${s.groups[k]} (${fmt(col[k])})`;
    });
    const id = `gate-groups-${index(v)}`;
    out.push(figure(add({
      id,
      title: `${v.label}: mean gate share per view by ${s.name}`,
      caption: `Each cell: the mean over the ${esc(s.name)}'s evaluation samples of a view's ` +
        `share of the gate activation (g_view / Σ g), pooled over ${s.runs} run(s); n: samples. ` +
        `Favoured view per ${esc(s.name)} — ${esc(favoured.join("; "))}. ` +
        `Largest share of each view — ${esc(peaks.join("; "))}.`,
      svg: gridHeatmap(
        id,
        s.groups.flatMap((g, k) =>
          s.views.map((view, m) => ({ row: g, col: view, mean: s.shares[k][m], n: s.counts[k] }))
        ),
        { row: s.name, col: "view", rows: s.groups, cols: s.views, value: "mean gate share" },
      ),
    })));
  }
  return out;
}
