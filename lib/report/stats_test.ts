import assert from "node:assert/strict";
import {
  adjustP,
  incompleteBeta,
  lnGamma,
  mean,
  nonCentralTCdf,
  normalCdf,
  pairedTest,
  pairedTPower,
  pairsForPower,
  pairsForSignFlip,
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
  // every difference 0: t = 0/0 and the t-test are undefined (the page shows "–")
  const zero = pairedTest([1, 2], [1, 2]);
  assert.ok(zero.identical && Number.isNaN(zero.pT) && Number.isNaN(zero.t));
  assert.equal(zero.pSignFlip, 1);
  // sign-flip by hand: diffs (1, −1, 3): sums over 8 sign patterns
  // |±1 ±1 ±3| ∈ {5, 3, 3, 1, 1, 3, 3, 5}; observed |1 − 1 + 3| = 3 → 6/8
  assert.equal(signFlipP([1, -1, 3]), 6 / 8);
  assert.throws(() => pairedTest([1], [1, 2]));
});

Deno.test("Cohen's d_z is the mean difference over the differences' std (t / √n)", () => {
  const r = pairedTest([0.9, 0.8, 0.95], [0.7, 0.75, 0.8]);
  // differences 0.2, 0.05, 0.15: mean 0.1333…, std 0.0763762615825973
  close(r.dz, 0.133333333333333 / 0.0763762615825973, 1e-12, "d_z");
  close(r.dz, r.t / Math.sqrt(3), 1e-14, "d_z = t/√n");
  assert.equal(pairedTest([2, 3], [1, 2]).dz, Infinity);
  assert.ok(Number.isNaN(pairedTest([1], [0]).dz));
});

Deno.test("intervals of bounded metrics stay in their range; the t-interval is cut, not moved", () => {
  // n = 2, values 0.9 and 0.986: t-interval [0.397, 1.489] cut at 1
  const s = summarize([0.9, 0.986], 0.95, [0, 1]);
  const half = 12.7062047361747 * std([0.9, 0.986]) / Math.SQRT2;
  close(s.half, half, 1e-10, "half unchanged");
  close(s.lo, 0.943 - half, 1e-10, "lo");
  assert.equal(s.hi, 1);
  assert.ok(s.clipped);
  assert.ok(!summarize([0.5, 0.6, 0.55], 0.95, [0, 1]).clipped);
  assert.ok(!summarize([0.5], 0.95, [0, 1]).clipped, "no interval, nothing cut");
  // differences of [0, 1] values live in [−1, 1]
  const d = pairedTest([0.9, 0.8], [0.1, 0.1], 0.95, [0, 1]);
  assert.equal(d.hi, 1);
  close(d.lo, 0.75 - 12.7062047361747 * 0.05, 1e-10, "diff lo");
  assert.ok(d.clipped);
  // BLEU-like ranges work the same
  assert.equal(summarize([99, 100], 0.95, [0, 100]).hi, 100);
});

Deno.test("sign-flip above 20 pairs: seeded Monte Carlo, close to the exact value", () => {
  // 21 differences, 16 of +1 and 5 of −1: |sum| = 11. Exact p = P(|2B − 21| ≥ 11),
  // B ~ Binomial(21, ½): 2 · Σ_{k≥16} C(21, k) / 2²¹ = 2 · 27896 / 2097152 = 0.026603698730…
  const diffs = [...Array(16).fill(1), ...Array(5).fill(-1)];
  const exact = 2 * 27896 / 2 ** 21;
  const p = signFlipP(diffs);
  // standard error √(p(1 − p)/100000) ≈ 0.0005: 5 standard errors
  assert.ok(Math.abs(p - exact) < 0.0026, `${p} vs ${exact}`);
  assert.equal(signFlipP(diffs), p, "seeded: the same p every time");
  assert.notEqual(signFlipP(diffs, 1000, 1), p);
  assert.ok(!pairedTest(diffs, diffs.map(() => 0)).signFlipExact);
  // with 20 pairs it is still exact: 2 · Σ_{k≥15} C(20, k) / 2²⁰ for 15 of +1, 5 of −1
  const twenty = [...Array(15).fill(1), ...Array(5).fill(-1)];
  assert.equal(signFlipP(twenty), 2 * 21700 / 2 ** 20);
  assert.equal(pairsForSignFlip(0.05), 6); // 2/2⁵ = 0.0625, 2/2⁶ = 0.03125
  assert.equal(pairsForSignFlip(0.05 / 3), 7); // 2/2⁷ = 0.0156
});

Deno.test("Holm and Bonferroni adjustments against statsmodels", () => {
  // Reference: statsmodels 0.13.5 (Debian python3-statsmodels),
  //   multipletests([0.044, 0.30, 0.012], method="holm"|"bonferroni")[1]
  const holm = adjustP([0.044, 0.30, 0.012, NaN], "holm");
  [0.088, 0.3, 0.036].forEach((x, i) => close(holm[i], x, 1e-14, `holm ${i}`));
  assert.ok(Number.isNaN(holm[3]), "NaN is not a comparison");
  const bonf = adjustP([0.044, 0.30, 0.012], "bonferroni");
  [0.132, 0.9, 0.036].forEach((x, i) => close(bonf[i], x, 1e-14, `bonferroni ${i}`));
  //   multipletests([0.01, 0.04, 0.03, 0.005, 0.5], method="holm")[1]: monotone step-down
  const h5 = adjustP([0.01, 0.04, 0.03, 0.005, 0.5], "holm");
  [0.04, 0.09, 0.09, 0.025, 0.5].forEach((x, i) => close(h5[i], x, 1e-14, `holm5 ${i}`));
  assert.deepEqual(adjustP([0.2, 0.01], "none"), [0.2, 0.01]);
});

// Reference values for the power of the paired t-test, computed independently with Debian's
// python3-scipy 1.10.1 and python3-statsmodels 0.13.5 (exact noncentral t, no normal approximation):
//   from scipy.stats import nct, norm; from statsmodels.stats.power import TTestPower
//   nct.cdf(t, df, nc); norm.cdf(z)
//   TTestPower().power(effect_size=d, nobs=n, alpha=a, alternative="two-sided")
//   math.ceil(TTestPower().solve_power(effect_size=d, alpha=a, power=0.8,
//                                      alternative="two-sided"))
// The nct CDF values were checked a second way with mpmath 1.2.1 at 30 digits, integrating the
// definition P(T ≤ t) = E[Φ(t·√(V/ν) − δ)], V ~ χ²(ν): they agree to 1e-15.
Deno.test("noncentral t CDF and normal CDF against scipy", () => {
  const nctRef: [number, number, number, number][] = [
    [2, 3, 1.5, 0.5996762683708929],
    [-1, 5, 2, 0.0023163756540751645],
    [3.1824, 2, 2.4, 0.568485834101466],
    [1.96, 10, -1, 0.9964045534479118],
    [-2, 4, -3, 0.8229827387776824],
    [4.3, 2, 10, 0.007213630366136159],
    [2.2, 29, 2.8, 0.2758966696673217],
  ];
  for (const [t, df, d, p] of nctRef) {
    close(nonCentralTCdf(t, df, d), p, 1e-11, `nct(${t}; ${df}, ${d})`);
  }
  close(nonCentralTCdf(1.3, 4, 0), studentTCdf(1.3, 4), 1e-15, "δ = 0 is Student t");
  const phi: [number, number][] = [
    [-5, 2.866515718791933e-07],
    [-1.96, 0.024997895148220435],
    [0.5, 0.6914624612740131],
    [3, 0.9986501019683699],
  ];
  for (const [z, p] of phi) assert.ok(Math.abs(normalCdf(z) - p) < 1e-15 + 1e-13 * p, `Φ(${z})`);
});

Deno.test("power of the paired t-test and seeds for 80% power against statsmodels", () => {
  const powerRef: [number, number, number, number][] = [
    [0.5, 10, 0.05, 0.2931756065300414],
    [1.2, 3, 0.05, 0.2304068607525131],
    [2.6, 3, 0.05 / 3, 0.29671316282664656],
    [0.3, 50, 0.05, 0.5476570399926962],
    [1.0, 9, 0.05, 0.7480170922787445],
    [1.0, 10, 0.05, 0.8030968566475511],
  ];
  for (const [d, n, a, p] of powerRef) {
    close(pairedTPower(d, n, a), p, 1e-8, `power(d=${d}, n=${n}, α=${a})`);
  }
  // solve_power: 33.37, 9.94, 4.53, 786.8, 3.14, 20.6 → the next whole number of seeds
  const seedsRef: [number, number, number][] = [
    [0.5, 0.05, 34],
    [1.0, 0.05, 10],
    [2.6, 0.05 / 3, 5],
    [0.1, 0.05, 787],
    [3, 0.05, 4],
    [0.8, 0.0125, 21],
  ];
  for (const [d, a, n] of seedsRef) {
    assert.equal(pairsForPower(d, a), n, `seeds(d=${d}, α=${a})`);
    assert.equal(pairsForPower(-d, a), n, "two-sided: the sign does not matter");
  }
  assert.equal(pairsForPower(0), Infinity);
  assert.equal(pairsForPower(0.001, 0.05, 0.8, 1000), Infinity);
  // at d_z = 0 the power is the level itself
  close(pairedTPower(0, 5, 0.05), 0.05, 1e-12, "size");
});
