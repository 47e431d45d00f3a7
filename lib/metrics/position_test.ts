import assert from "node:assert/strict";
import { accuracyFrom, addPositionCounts, positionAccuracy, positionCounts } from "./position.ts";

Deno.test("positionCounts: per position by hand, padding skipped, short predictions wrong", () => {
  const golds = [[5, 6, 7, 8], [5, 6, 0, 0], [9, 9, 9]];
  const preds = [[5, 6, 3, 8], [5, 4, 7, 7], [9]];
  const c = positionCounts(preds, golds);
  // position 0: 3/3; 1: row0 ok, row1 wrong, row2 missing → 1/3; 2: row0 wrong, row2 missing → 0/2;
  // 3: row0 ok → 1/1 (row1 is padding there).
  assert.deepEqual(c, { correct: [3, 1, 0, 1], total: [3, 3, 2, 1] });
  assert.deepEqual(positionAccuracy(c), [1, 1 / 3, 0, 1]);
  // positions ≥ 2: 1 correct of 3 scored.
  assert.equal(accuracyFrom(c, 2), 1 / 3);
  assert.equal(accuracyFrom(c, 0), 5 / 9);
  assert.ok(Number.isNaN(accuracyFrom(c, 4)));
  assert.throws(() => positionCounts([[1]], []), /1 predictions for 0 targets/);
});

Deno.test("addPositionCounts pools counts of different lengths", () => {
  const a = { correct: [1, 0], total: [2, 2] }, b = { correct: [1, 1, 1], total: [1, 1, 1] };
  assert.deepEqual(addPositionCounts(a, b), { correct: [2, 1, 1], total: [3, 3, 1] });
  const empty = positionCounts([], []);
  assert.deepEqual(positionAccuracy(empty), []);
});
