import assert from "node:assert/strict";
import type { Variant } from "./analysis.ts";
import type { RunData } from "./load.ts";
import type { Chart } from "./charts.ts";
import { gateGroupFigures, groupShares } from "./gate_groups.ts";

function run(seed: number, state: string, gates: unknown): RunData {
  return {
    run: { id: `r${seed}`, seed },
    status: { state },
    metrics: [],
    artifacts: gates === undefined ? {} : { gates },
  } as unknown as RunData;
}

const gates = (values: number[][], of: number[]) => ({
  modalities: ["words", "tags"],
  values,
  groups: { name: "genre", names: ["news", "romance", "humor"], of },
});

Deno.test("groupShares: mean gate share per group and view, pooled over finished runs", () => {
  const v: Variant = {
    key: "k",
    label: "gmu",
    values: {},
    runs: [
      // shares: news 0.8 / 0.2 and 0.6 / 0.4; romance 0.25 / 0.75
      run(0, "done", gates([[0.4, 0.1], [0.3, 0.2], [0.1, 0.3]], [0, 0, 1])),
      run(1, "done", gates([[0.5, 0.5]], [1])),
      // a failed run is left out while finished ones exist
      run(2, "failed", gates([[1, 0]], [1])),
      run(3, "done", undefined),
    ],
  };
  const s = groupShares(v)!;
  assert.equal(s.name, "genre");
  assert.deepEqual(s.groups, ["news", "romance"]); // humor has no sample
  assert.deepEqual(s.counts, [2, 2]);
  assert.equal(s.runs, 2);
  const close = (a: number[][], b: number[][]) =>
    a.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - b[i][j]) < 1e-12)));
  close(s.shares, [[0.7, 0.3], [0.375, 0.625]]);

  const charts: Chart[] = [];
  const figs = gateGroupFigures([v], () => 0, (c) => (charts.push(c), c));
  assert.equal(figs.length, 1);
  assert.equal(charts[0].id, "gate-groups-0");
  assert.match(charts[0].caption, /news: words \(0\.7\d*\); romance: tags \(0\.625\)/);
  assert.match(charts[0].svg, /<svg/);
});

Deno.test("groupShares: nothing without grouped gates", () => {
  const v: Variant = {
    key: "k",
    label: "concat",
    values: {},
    runs: [run(0, "done", { modalities: ["a", "b"], values: [[0.5, 0.5]] })],
  };
  assert.equal(groupShares(v), undefined);
  assert.deepEqual(gateGroupFigures([v], () => 0, (c) => c), []);
});
