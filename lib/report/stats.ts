/**
 * Statistics over seeds: mean, sample standard deviation, Student t
 * quantiles, 95% intervals and paired tests. Written out here (no
 * dependency) so that every number on a report can be checked by hand.
 *
 * @module
 */

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
}

/**
 * Summarizes a sample with a two-sided Student t-interval:
 * mean ± t_{(1+level)/2, n−1} · s / √n.
 */
export function summarize(xs: readonly number[], level = 0.95): Summary {
  const n = xs.length;
  const m = mean(xs);
  const s = std(xs);
  const half = n >= 2 ? tQuantile((1 + level) / 2, n - 1) * s / Math.sqrt(n) : NaN;
  return {
    n,
    mean: m,
    std: s,
    min: n ? Math.min(...xs) : NaN,
    max: n ? Math.max(...xs) : NaN,
    half,
    lo: m - half,
    hi: m + half,
    level,
  };
}

/** A paired comparison of two conditions over the same seeds. */
export interface PairedTest extends Summary {
  /** The differences a − b, in pairing order. */
  diffs: number[];
  /** Whether every difference is the same (up to rounding): no spread, no t-interval. */
  flat: boolean;
  /** t statistic of the mean difference (±Infinity when every difference is equal and non-zero). */
  t: number;
  /**
   * Two-sided p-value of the paired t-test (n − 1 degrees of freedom); NaN when n < 2 or when
   * every difference is the same non-zero value (no spread to test against).
   */
  pT: number;
  /** Two-sided p-value of the exact sign-flip permutation test; NaN when n < 1 or n > 20. */
  pSignFlip: number;
  /** The smallest p-value the sign-flip test can give with n pairs: 2 / 2ⁿ. */
  pSignFlipMin: number;
}

/**
 * Paired comparison of `a` against `b` (same length, paired by index):
 * the mean difference with its t-interval, the paired t-test and the exact
 * sign-flip permutation test (which assumes only symmetry of differences
 * under no effect, and is the honest test with few seeds).
 */
export function pairedTest(a: readonly number[], b: readonly number[], level = 0.95): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTest: ${a.length} vs ${b.length} values`);
  const diffs = a.map((x, i) => x - b[i]);
  const s = summarize(diffs, level);
  // equal differences up to rounding (e.g. 0.1 − 0.35 vs 0.2 − 0.45) count as no spread
  const flat = s.n >= 2 && s.std <= 1e-9 * Math.max(...diffs.map(Math.abs));
  let t = NaN;
  let pT = NaN;
  if (s.n >= 2) {
    if (flat) {
      // no spread: t is 0 or infinite and the test says nothing useful (NaN unless no effect)
      t = s.mean === 0 ? 0 : s.mean > 0 ? Infinity : -Infinity;
      pT = s.mean === 0 ? 1 : NaN;
    } else {
      t = s.mean / (s.std / Math.sqrt(s.n));
      pT = 2 * (1 - studentTCdf(Math.abs(t), s.n - 1));
    }
  }
  return {
    ...s,
    diffs,
    flat,
    t,
    pT,
    pSignFlip: signFlipP(diffs),
    pSignFlipMin: s.n >= 1 ? Math.min(1, 2 / 2 ** s.n) : NaN,
  };
}

/**
 * Exact two-sided sign-flip permutation p-value of the mean of `diffs`:
 * the share of the 2ⁿ sign assignments whose |sum| is at least the observed one.
 */
export function signFlipP(diffs: readonly number[]): number {
  const n = diffs.length;
  if (n < 1 || n > 20) return NaN;
  const observed = Math.abs(diffs.reduce((s, d) => s + d, 0));
  const tol = 1e-12 * Math.max(1, ...diffs.map(Math.abs));
  let hits = 0;
  const total = 2 ** n;
  for (let mask = 0; mask < total; mask++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -diffs[i] : diffs[i];
    if (Math.abs(sum) >= observed - tol) hits++;
  }
  return hits / total;
}
