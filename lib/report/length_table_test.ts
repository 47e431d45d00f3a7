import assert from "node:assert/strict";
import type { Variant } from "./analysis.ts";
import type { RunData } from "./load.ts";
import { lengthInfo, lengthTable } from "./length_table.ts";
import { summarize } from "./stats.ts";

function run(
  variantKey: string,
  seed: number,
  perplexity: (number | null)[],
  notes: string[] = [],
) {
  return {
    run: { id: `${variantKey}-${seed}`, variantKey, variant: {}, seed },
    status: { state: "done" },
    metrics: [],
    artifacts: {
      length_generalization: {
        lengths: [64, 128, 256],
        metrics: { perplexity },
        split: "test",
        trainLength: 64,
        tokens: 1024,
        method: "non-overlapping windows",
        notes,
      },
    },
  } as unknown as RunData;
}

Deno.test("length table: mean ± 95 % interval per length, ratios to L, not representable, notes", () => {
  const a = [run("a", 0, [6, 9, 12]), run("a", 1, [7, 10, 14]), run("a", 2, [8, 10, 13])];
  const note = "learned table holds 64 positions: no perplexity at 128, 256";
  const b = [run("b", 0, [5, null, null], [note]), run("b", 1, [6, null, null], [note])];
  const c: RunData[] = [];
  const variants: Variant[] = [
    { key: "a", label: "sinusoid", values: {}, runs: a },
    { key: "b", label: "learned", values: {}, runs: b },
    { key: "c", label: "rope", values: {}, runs: c },
  ];
  const runs = [...a, ...b];
  const info = lengthInfo(variants, runs);
  assert.equal(info.trainLength, 64);
  assert.match(
    info.caption,
    /Split: test\. Trained at length 64\. Tokens scored per length: 1024\./,
  );
  assert.match(info.caption, /Method: non-overlapping windows\./);
  assert.match(info.notes, /learned: learned table holds 64 positions: no perplexity at 128, 256/);
  const html = lengthTable(variants, runs, "perplexity");
  // sinusoid at 64: 7 ± t(0.975, 2)·1/√3 = 7 ± 2.484
  const s = summarize([6, 7, 8]);
  assert.ok(Math.abs(s.half - 2.484) < 1e-3);
  assert.match(html, /<td>7\.00 ± 2\.48<\/td>/);
  // ratio @256/@64 per seed: 2, 2, 1.625 → mean 1.875
  assert.match(html, /<td>1\.88 ± 0\.54<\/td>/);
  assert.match(html, /learned.*<td>5\.50 ± 6\.35<\/td><td class="text">not representable<\/td>/s);
  assert.match(html, /rope<\/td><td>–<\/td>/); // no runs: a dash, not "not representable"
  assert.match(html, /<th>@256 \/ @64<\/th>/);
});
