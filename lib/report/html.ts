/**
 * The HTML shell of report pages: one self-contained document with inline
 * CSS, no scripts and no network.
 *
 * @module
 */
import type { Chart } from "./charts.ts";
import { esc } from "./format.ts";

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: #1d1d1f; background: #fff; margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid #ddd; }
h3 { font-size: 16px; margin: 24px 0 6px; }
p.lead { font-size: 17px; color: #333; margin: 4px 0 16px; }
.muted, figcaption, .note { color: #555; font-size: 13.5px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 12px 0; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: #f3f3f5;
  padding: 1px 4px; border-radius: 3px; }
.summary { background: #f5f8fc; border-left: 4px solid #4e79a7; padding: 10px 16px; margin: 16px 0; }
.summary ul { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 10px 0 6px; font-size: 13.5px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; text-align: right; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.err { text-align: left; max-width: 520px; white-space: pre-wrap; word-break: break-word;
  font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; }
.n { color: #777; font-size: 12px; }
.nowrap { white-space: nowrap; }
.state-done { color: #2f7d32; } .state-failed, .state-diverged { color: #b3261e; font-weight: 600; }
.state-running, .state-pending { color: #8a6d00; }
.scroll { overflow-x: auto; }
figure { margin: 14px 0 22px; }
figure svg { max-width: 100%; height: auto; }
figcaption { margin-top: 4px; max-width: 780px; }
figcaption a { color: #4e79a7; }
.row { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.row figure { margin: 8px 0; flex: 0 1 auto; max-width: calc(50% - 14px); }
ul.verdicts li { margin: 3px 0; }
details { margin: 8px 0 4px; font-size: 13.5px; }
details pre { background: #f6f6f8; padding: 8px 10px; overflow-x: auto; font-size: 12.5px; }
footer { margin-top: 48px; color: #666; font-size: 12.5px; border-top: 1px solid #ddd; padding-top: 8px; }
a { color: #2b5d8c; }
`;

/** A complete HTML page around a body. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fuselab report">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** A cell: plain text (escaped) or pre-rendered HTML with attributes. */
export type Cell = string | number | { html: string; attrs?: Record<string, string>; cls?: string };

/** An HTML table with an id; text cells are escaped. */
export function table(id: string, head: string[], rows: Cell[][], cls = ""): string {
  const cell = (c: Cell, tag: "td" | "th") => {
    if (typeof c === "object") {
      const attrs = Object.entries(c.attrs ?? {}).map(([k, v]) => ` ${k}="${esc(v)}"`).join("");
      return `<${tag}${c.cls ? ` class="${c.cls}"` : ""}${attrs}>${c.html}</${tag}>`;
    }
    return `<${tag}>${esc(c)}</${tag}>`;
  };
  return `<div class="scroll"><table id="${esc(id)}"${cls ? ` class="${cls}"` : ""}>` +
    `<thead><tr>${
      head.map((h, i) => {
        const c = rows[0]?.[i];
        const left = typeof c === "object" && /\b(text|err)\b/.test(c.cls ?? "");
        return `<th${left ? ' class="text"' : ""}>${esc(h)}</th>`;
      }).join("")
    }</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => cell(c, "td")).join("")}</tr>`).join("\n") +
    `</tbody></table></div>`;
}

/** A file-safe, lowercase slug. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "x";
}

/** A chart as a page figure: title, inline SVG, caption and links to its SVG and PNG files. */
export function figure(c: Chart, extra = ""): string {
  return `<figure id="fig-${esc(c.id)}"><h3>${esc(c.title)}</h3>${
    c.svg.replace(/^<svg /, "<svg ")
  }` +
    `<figcaption>${c.caption}${extra} <a href="charts/${esc(c.id)}.svg">SVG</a> · ` +
    `<a href="charts/${esc(c.id)}.png">PNG</a></figcaption></figure>`;
}
