import assert from "node:assert/strict";
import {
  incompleteBeta,
  lnGamma,
  mean,
  pairedTest,
  signFlipP,
  std,
  studentTCdf,
  summarize,
  tQuantile,
} from "./stats.ts";

// Reference values computed with mpmath 1.2.1 at 30 digits (betainc, findroot).
const close = (a: number, b: number, tol = 1e-9, what = "") =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

Deno.test("mean and sample std (n − 1) by hand", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  close(std([1, 2, 3, 4]), Math.sqrt(5 / 3), 1e-15, "std");
  assert.ok(Number.isNaN(std([7])));
  assert.ok(Number.isNaN(mean([])));
});

Deno.test("lnGamma and the incomplete beta match closed forms", () => {
  close(lnGamma(5), Math.log(24), 1e-13, "lnGamma(5)");
  close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13, "lnGamma(1/2)");
  // I_x(1, 1) = x; I_x(a, 1) = x^a
  close(incompleteBeta(0.3, 1, 1), 0.3, 1e-13, "I(1,1)");
  close(incompleteBeta(0.6, 3, 1), 0.216, 1e-13, "I(3,1)");
});

Deno.test("Student t CDF against mpmath", () => {
  close(studentTCdf(2, 3), 0.930337015720578, 1e-11, "cdf(2;3)");
  close(studentTCdf(-1.5, 7), 0.0886492434949850, 1e-11, "cdf(-1.5;7)");
  close(studentTCdf(0.5, 2.5), 0.671151040065143, 1e-11, "cdf(.5;2.5)");
  close(studentTCdf(40, 2), 0.999687792663908, 1e-11, "cdf(40;2)");
  // df = 1 is the Cauchy distribution: 1/2 + atan(t)/π
  close(studentTCdf(3, 1), 0.5 + Math.atan(3) / Math.PI, 1e-12, "cauchy");
  assert.equal(studentTCdf(0, 5), 0.5);
});

Deno.test("t quantiles at 0.975 against mpmath", () => {
  const ref: [number, number][] = [
    [1, 12.7062047361747],
    [2, 4.30265272974946],
    [3, 3.18244630528371],
    [4, 2.77644510519779],
    [9, 2.26215716279821],
    [30, 2.04227245630124],
  ];
  for (const [df, q] of ref) close(tQuantile(0.975, df), q, 1e-10, `q(.975;${df})`);
  close(tQuantile(0.025, 4), -2.77644510519779, 1e-10, "lower tail");
});

Deno.test("summarize gives the 95% t-interval", () => {
  const s = summarize([0.2, 0.05, 0.15]);
  close(s.mean, 0.133333333333333, 1e-12, "mean");
  close(s.std, 0.0763762615825973, 1e-12, "std");
  close(s.half, 0.189729151679838, 1e-10, "half");
  assert.equal(s.n, 3);
  assert.equal(s.min, 0.05);
  assert.equal(s.max, 0.2);
  const one = summarize([3]);
  assert.equal(one.mean, 3);
  assert.ok(Number.isNaN(one.half));
});

Deno.test("paired t-test and exact sign-flip test", () => {
  const r = pairedTest([0.9, 0.8, 0.95], [0.7, 0.75, 0.8]);
  close(r.mean, 0.133333333333333, 1e-12, "mean diff");
  close(r.t, 3.02371578407382, 1e-10, "t");
  close(r.pT, 0.0941783726843234, 1e-9, "p");
  // all three differences positive: only the all-+ and all-− assignments reach |sum|
  assert.equal(r.pSignFlip, 2 / 8);
  assert.equal(r.pSignFlipMin, 0.25);
  // identical differences: infinite t and no usable t-test; the sign-flip test still answers
  const same = pairedTest([2, 3], [1, 2]);
  assert.equal(same.t, Infinity);
  assert.ok(Number.isNaN(same.pT));
  assert.equal(same.pSignFlip, 0.5);
  assert.equal(pairedTest([1, 2], [1, 2]).pT, 1);
  // sign-flip by hand: diffs (1, −1, 3): sums over 8 sign patterns
  // |±1 ±1 ±3| ∈ {5, 3, 3, 1, 1, 3, 3, 5}; observed |1 − 1 + 3| = 3 → 6/8
  assert.equal(signFlipP([1, -1, 3]), 6 / 8);
  assert.throws(() => pairedTest([1], [1, 2]));
});
