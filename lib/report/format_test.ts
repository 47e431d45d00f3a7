import assert from "node:assert/strict";
import { fmt, fmtCi, fmtDate, fmtDuration, fmtInt, fmtP, fmtPm, fmtSigned } from "./format.ts";
import { logTick, niceTicks } from "./charts.ts";

Deno.test("numbers: 3 significant digits, minus sign, matching decimals for mean ± std", () => {
  assert.equal(fmt(0.83333), "0.833");
  assert.equal(fmt(12.345), "12.3");
  assert.equal(fmt(-0.0123), "\u22120.0123");
  assert.equal(fmt(0.00012), "1.20e-4");
  assert.equal(fmt(NaN), "–");
  assert.equal(fmtPm(0.85, 0.0707), "0.850 ± 0.071");
  assert.equal(fmtPm(0.99953, 0.000817), "0.99953 ± 0.00082");
  assert.equal(fmtPm(2.5, NaN), "2.50");
  assert.equal(fmtSigned(0.125, 0.95), "+0.125");
  assert.equal(fmtSigned(-0.3), "\u22120.300");
  assert.equal(fmtCi(-0.3, 0.4), "\u22120.30 ± 0.40");
  assert.equal(fmtCi(0.125, 0.953), "+0.13 ± 0.95");
  assert.equal(fmtCi(0.001, 0.5), "0.00 ± 0.50");
});

Deno.test("p-values, durations, integers and dates", () => {
  assert.equal(fmtP(0.0941), "p = 0.094");
  assert.equal(fmtP(0.34), "p = 0.34");
  assert.equal(fmtP(0.0004), "p < 0.001");
  assert.equal(fmtDuration(8.234), "8.2 s");
  assert.equal(fmtDuration(185), "3 min 05 s");
  assert.equal(fmtDuration(3725), "1 h 02 min");
  assert.equal(fmtInt(1234567), "1\u2009234\u2009567");
  assert.equal(fmtDate("2026-01-02T03:04:05.678Z"), "2026-01-02 03:04 UTC");
});

Deno.test("axis ticks: nice steps and log labels", () => {
  assert.deepEqual(niceTicks(0.85, 0.951, 6), [0.86, 0.88, 0.9, 0.92, 0.94]);
  assert.deepEqual(niceTicks(-1, 1, 4), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual([0.1, 0.2, 0.3, 0.5, 1, 2, 7, 50].map(logTick), [
    "0.1",
    "0.2",
    "",
    "0.5",
    "1",
    "2",
    "",
    "50",
  ]);
});
