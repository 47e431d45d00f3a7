/**
 * Statistics over seeds: mean, sample standard deviation, Student t
 * quantiles, 95% intervals, paired tests, family-wise corrections and the
 * power of the paired t-test. Written out here (no dependency but the seeded
 * generator) so that every number on a report can be checked by hand.
 *
 *   interval       x̄ ± t_{0.975, n−1} · s / √n, intersected with the metric's range [a, b]
 *   paired t       t = d̄ / (s_d / √n), two-sided, n − 1 degrees of freedom
 *   effect size    Cohen's d_z = d̄ / s_d (= t / √n)
 *   sign-flip      p = #{ε ∈ {±1}ⁿ : |Σ εᵢdᵢ| ≥ |Σ dᵢ|} / 2ⁿ (Monte Carlo above 20 pairs)
 *   Holm           p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) · p₍ⱼ₎), p₍₁₎ ≤ … ≤ p₍ₘ₎
 *   Bonferroni     p̃ᵢ = min(1, m · pᵢ)
 *   power          1 − F(c; n − 1, δ) + F(−c; n − 1, δ), c = t_{1−α/2, n−1}, δ = d_z √n,
 *                  F the noncentral t CDF (Guenther's series in the incomplete beta function)
 *
 * See docs/report.md for each statistic's assumptions.
 *
 * @module
 */
import { Rng } from "../util/rng.ts";
import type { Correction } from "../contract/results.ts";

/** Arithmetic mean; NaN for no values. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (divides by n − 1); NaN for fewer than two values. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * ln Γ(x) for x > 0: shifted up to x ≥ 15 with Γ(x + 1) = x Γ(x), then
 * Stirling's series with Bernoulli-number terms up to x⁻¹³ (error < 1e-16 there).
 */
export function lnGamma(x: number): number {
  if (!(x > 0)) return NaN;
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const x2 = x * x;
  let series = 1 / 156;
  for (const c of [-691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12]) {
    series = c + series / x2;
  }
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series / x - shift;
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    // even step
    let num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // odd step
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1 and a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) +
    b * Math.log(1 - x);
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return Math.exp(lnFront) * betaFraction(x, a, b) / a;
  return 1 - Math.exp(lnFront) * betaFraction(1 - x, b, a) / b;
}

/** P(T ≤ t) for Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (e.g. p = 0.975). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean, spread and a two-sided t-interval of a sample. */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Mean; NaN when n = 0. */
  mean: number;
  /** Sample standard deviation (n − 1); NaN when n < 2. */
  std: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Half-width of the two-sided t-interval at `level`; NaN when n < 2. */
  half: number;
  /** mean − half. */
  lo: number;
  /** mean + half. */
  hi: number;
  /** Confidence level of the interval (0.95). */
  level: number;
  /**
   * The range the interval was cut to (the metric's range, or for differences
   * [−(b − a), b − a]); undefined when the metric has none.
   */
  range?: readonly [number, number];
  /** Whether `lo` or `hi` was cut to the range (then `lo`/`hi` are not mean ∓ half). */
  clipped: boolean;
}

/**
 * Summarizes a sample with a two-sided Student t-interval:
 * mean ± t_{(1+level)/2, n−1} · s / √n; with a `range` [a, b] (the values'
 * possible range, e.g. [0, 1] for accuracy) the interval is intersected with
 * it. The true mean lies in [a, b], so the cut interval contains it exactly
 * when the t-interval does: the coverage is unchanged.
 */
export function summarize(
  xs: readonly number[],
  level = 0.95,
  range?: readonly [number, number],
): Summary {
  const n = xs.length;
  const m = mean(xs);
  const s = std(xs);
  const half = n >= 2 ? tQuantile((1 + level) / 2, n - 1) * s / Math.sqrt(n) : NaN;
  const [lo, hi] = within(m - half, m + half, range);
  return {
    n,
    mean: m,
    std: s,
    min: n ? Math.min(...xs) : NaN,
    max: n ? Math.max(...xs) : NaN,
    half,
    lo,
    hi,
    level,
    ...(range ? { range } : {}),
    clipped: Number.isFinite(half) && (lo !== m - half || hi !== m + half),
  };
}

/** [lo, hi] intersected with `range` (NaN stays NaN). */
function within(lo: number, hi: number, range?: readonly [number, number]): [number, number] {
  if (!range) return [lo, hi];
  return [lo < range[0] ? range[0] : lo, hi > range[1] ? range[1] : hi];
}

/** The range of a difference of two values in [a, b]: [−(b − a), b − a]. */
export function differenceRange(
  range: readonly [number, number] | undefined,
): [number, number] | undefined {
  return range ? [-(range[1] - range[0]), range[1] - range[0]] : undefined;
}

/** A paired comparison of two conditions over the same seeds. */
export interface PairedTest extends Summary {
  /** The differences a − b, in pairing order. */
  diffs: number[];
  /** Whether every difference is the same (up to rounding): no spread, no t-interval. */
  flat: boolean;
  /** Whether every difference is exactly 0: the two conditions gave identical values. */
  identical: boolean;
  /**
   * t statistic of the mean difference: ±Infinity when every difference is equal and non-zero,
   * NaN when every difference is 0 (0 / 0) or n < 2.
   */
  t: number;
  /**
   * Two-sided p-value of the paired t-test (n − 1 degrees of freedom); NaN when n < 2 or when
   * every difference is the same value (no spread: the test is undefined).
   */
  pT: number;
  /** Cohen's d_z = mean / std of the differences (= t / √n); ±Infinity or NaN as `t`. */
  dz: number;
  /**
   * Two-sided p-value of the sign-flip permutation test: exact up to
   * {@link SIGN_FLIP_EXACT_MAX} pairs, Monte Carlo above; NaN when n < 1.
   */
  pSignFlip: number;
  /** Whether `pSignFlip` is exact (every 2ⁿ sign flip) rather than Monte Carlo. */
  signFlipExact: boolean;
  /** The smallest p-value the exact sign-flip test can give with n pairs: 2 / 2ⁿ. */
  pSignFlipMin: number;
}

/**
 * Paired comparison of `a` against `b` (same length, paired by index):
 * the mean difference with its t-interval, the paired t-test, Cohen's d_z
 * and the sign-flip permutation test (which assumes only symmetry of
 * differences under no effect, and is the honest test with few seeds).
 * `range` is the range of the values compared (e.g. [0, 1]); the interval of
 * the difference is cut to [−(b − a), b − a].
 */
export function pairedTest(
  a: readonly number[],
  b: readonly number[],
  level = 0.95,
  range?: readonly [number, number],
): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTest: ${a.length} vs ${b.length} values`);
  const diffs = a.map((x, i) => x - b[i]);
  const s = summarize(diffs, level, differenceRange(range));
  // equal differences up to rounding (e.g. 0.1 − 0.35 vs 0.2 − 0.45) count as no spread
  const flat = s.n >= 2 && s.std <= 1e-9 * Math.max(...diffs.map(Math.abs));
  const identical = s.n >= 1 && diffs.every((d) => d === 0);
  let t = NaN;
  let pT = NaN;
  if (s.n >= 2 && !identical) {
    if (flat) {
      // no spread: t is infinite and the test says nothing (its p is undefined)
      t = s.mean > 0 ? Infinity : -Infinity;
    } else {
      t = s.mean / (s.std / Math.sqrt(s.n));
      pT = 2 * (1 - studentTCdf(Math.abs(t), s.n - 1));
    }
  }
  return {
    ...s,
    diffs,
    flat,
    identical,
    t,
    pT,
    dz: t / Math.sqrt(s.n),
    pSignFlip: signFlipP(diffs),
    signFlipExact: s.n <= SIGN_FLIP_EXACT_MAX,
    pSignFlipMin: s.n >= 1 ? Math.min(1, 2 / 2 ** s.n) : NaN,
  };
}

/** Up to this many pairs the sign-flip test enumerates all 2ⁿ sign flips (2²⁰ ≈ 1 million). */
export const SIGN_FLIP_EXACT_MAX = 20;
/** Random sign flips drawn by the Monte Carlo sign-flip test above {@link SIGN_FLIP_EXACT_MAX}. */
export const SIGN_FLIP_DRAWS = 100_000;
/** Seed of the Monte Carlo sign-flip test: the same differences always give the same p. */
export const SIGN_FLIP_SEED = 20260101;

/**
 * Two-sided sign-flip permutation p-value of the mean of `diffs`: the share
 * of sign assignments whose |sum| is at least the observed one. Exact (all
 * 2ⁿ assignments) up to {@link SIGN_FLIP_EXACT_MAX} differences; above, a
 * Monte Carlo estimate from `draws` assignments drawn with a seeded
 * generator, (1 + hits) / (1 + draws), which counts the observed assignment
 * and so is itself a valid p-value (never 0). Its standard error is at most
 * √(p(1 − p) / draws): 0.0007 at p = 0.05 with 100 000 draws.
 */
export function signFlipP(
  diffs: readonly number[],
  draws = SIGN_FLIP_DRAWS,
  seed = SIGN_FLIP_SEED,
): number {
  const n = diffs.length;
  if (n < 1) return NaN;
  const observed = Math.abs(diffs.reduce((s, d) => s + d, 0));
  const tol = 1e-12 * Math.max(1, ...diffs.map(Math.abs));
  let hits = 0;
  if (n <= SIGN_FLIP_EXACT_MAX) {
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -diffs[i] : diffs[i];
      if (Math.abs(sum) >= observed - tol) hits++;
    }
    return hits / total;
  }
  const rng = new Rng(seed);
  for (let k = 0; k < draws; k++) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (i % 32 === 0) bits = rng.nextUint32();
      sum += bits & (1 << (i % 32)) ? -diffs[i] : diffs[i];
    }
    if (Math.abs(sum) >= observed - tol) hits++;
  }
  return (1 + hits) / (1 + draws);
}

/** The level of every test on a report: "distinguishable" means p (adjusted) < 0.05. */
export const ALPHA = 0.05;

/**
 * Adjusts p-values for the m comparisons of a family (the entries that are
 * not NaN; NaN stays NaN and does not count): Holm's step-down
 * p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎) over the sorted p-values,
 * Bonferroni's min(1, m p), or none. Both keep the chance of any false
 * "distinguishable" in the family at most α, with no assumption about how
 * the comparisons depend on each other; Holm rejects everything Bonferroni
 * does, and sometimes more.
 */
export function adjustP(ps: readonly number[], correction: Correction): number[] {
  const valid = ps.map((p, i) => ({ p, i })).filter((x) => !Number.isNaN(x.p));
  const m = valid.length;
  const out = ps.map(() => NaN);
  if (correction === "none") return ps.slice();
  if (correction === "bonferroni") {
    for (const { p, i } of valid) out[i] = Math.min(1, m * p);
    return out;
  }
  valid.sort((a, b) => a.p - b.p || a.i - b.i);
  let running = 0;
  valid.forEach(({ p, i }, j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): the
 * series of P = 1 − Q below x = a + 1, the continued fraction of Q above.
 */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < 1000; k++) {
      term *= x / (a + k);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - front * sum;
  }
  // modified Lentz for Q(a, x) = front / (x + 1 − a − 1·(1 − a) / (x + 3 − a − …))
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let k = 1; k < 1000; k++) {
    const an = -k * (k - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return front * h;
}

/** Φ(z), the standard normal CDF: ½ erfc(−z / √2), with erfc(u) = Q(½, u²). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const q = 0.5 * gammaQ(0.5, z * z / 2);
  return z >= 0 ? 1 - q : q;
}

/**
 * P(T ≤ t) for the noncentral t distribution with `df` degrees of freedom
 * and noncentrality `delta`, T = (Z + δ) / √(V / ν). For t ≥ 0, Guenther's
 * (1978) series: with x = t² / (t² + ν) and λ = δ² / 2,
 *
 *   F(t) = Φ(−δ) + ½ Σ_{j≥0} [ p_j I_x(j + ½, ν/2) + q_j I_x(j + 1, ν/2) ],
 *   p_j = e^{−λ} λʲ / j!,   q_j = δ e^{−λ} λʲ / (√2 Γ(j + 3/2));
 *
 * for t < 0, F(t; ν, δ) = 1 − F(−t; ν, −δ). The sum runs over j ≤ λ + 12√λ + 40,
 * past which the Poisson weights are below 1e-30.
 */
export function nonCentralTCdf(t: number, df: number, delta: number): number {
  if (Number.isNaN(t) || Number.isNaN(delta) || !(df > 0)) return NaN;
  if (delta === 0) return studentTCdf(t, df);
  if (t < 0) return 1 - nonCentralTCdf(-t, df, -delta);
  if (t === Infinity) return 1;
  const x = t * t / (t * t + df);
  const lambda = delta * delta / 2;
  const lnLambda = Math.log(lambda);
  const sign = delta > 0 ? 1 : -1;
  const lnDelta = Math.log(Math.abs(delta));
  const last = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 40);
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const lnPois = -lambda + j * lnLambda;
    const p = Math.exp(lnPois - lnGamma(j + 1));
    const q = sign * Math.exp(lnDelta + lnPois - 0.5 * Math.LN2 - lnGamma(j + 1.5));
    if (x > 0) sum += p * incompleteBeta(x, j + 0.5, df / 2) + q * incompleteBeta(x, j + 1, df / 2);
  }
  return Math.min(1, Math.max(0, normalCdf(-delta) + 0.5 * sum));
}

/**
 * Power of the two-sided paired t-test with `n` pairs at level `alpha` when
 * the true standardized effect is `dz` (mean difference / its standard
 * deviation): P(|T| > c) with T noncentral t (ν = n − 1, δ = d_z √n) and
 * c = t_{1−α/2, ν}. Exact under normal differences (no normal approximation).
 */
export function pairedTPower(dz: number, n: number, alpha = 0.05): number {
  if (!(n >= 2) || !Number.isFinite(dz)) return NaN;
  const df = n - 1;
  const c = tQuantile(1 - alpha / 2, df);
  const delta = dz * Math.sqrt(n);
  return 1 - nonCentralTCdf(c, df, delta) + nonCentralTCdf(-c, df, delta);
}

/**
 * The smallest number of pairs (≥ 2) at which the two-sided paired t-test at
 * level `alpha` has at least `power` for a true effect `dz`; Infinity when
 * `dz` is 0 or not finite, or more than `max` pairs would be needed.
 */
export function pairsForPower(dz: number, alpha = 0.05, power = 0.8, max = 1e6): number {
  if (!Number.isFinite(dz) || dz === 0) return Infinity;
  const enough = (n: number) => pairedTPower(dz, n, alpha) >= power;
  let lo = 1;
  let hi = 2;
  while (!enough(hi)) {
    if (hi >= max) return Infinity;
    lo = hi;
    hi = Math.min(max, hi * 2);
  }
  // enough(hi), not enough(lo) (lo = 1 counts as not enough): bisect to the first n
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The fewest pairs at which the exact sign-flip test can reach p < `alpha`
 * (when every difference has the same sign): the smallest n with 2 / 2ⁿ < α.
 */
export function pairsForSignFlip(alpha = 0.05): number {
  return Math.max(1, Math.floor(Math.log2(2 / alpha)) + 1);
}
