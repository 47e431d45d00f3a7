/**
 * Formatting for report pages: numbers, p-values, durations, dates and
 * HTML escaping. Negative numbers use the minus sign (U+2212).
 *
 * @module
 */

/** Decimals that show `sig` significant digits of `x` (0 to 6). */
export function decimalsFor(x: number, sig: number): number {
  if (!Number.isFinite(x) || x === 0) return 0;
  return Math.max(0, Math.min(6, sig - 1 - Math.floor(Math.log10(Math.abs(x)))));
}

function minus(s: string): string {
  return s.startsWith("-") ? `\u2212${s.slice(1)}` : s;
}

/** A number with 3 significant digits (fixed notation from 1e-3 to 1e6), "–" when missing. */
export function fmt(x: number | undefined, sig = 3): string {
  if (x === undefined || Number.isNaN(x)) return "–";
  if (x === Infinity) return "∞";
  if (x === -Infinity) return "\u2212∞";
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) {
    return minus(x.toExponential(sig - 1));
  }
  return minus(x.toFixed(decimalsFor(x, sig)));
}

/** Formats `value` with the decimals that also show 2 significant digits of `spread`. */
export function fmtWith(value: number, spread: number): string {
  if (!Number.isFinite(value)) return fmt(value);
  if (Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-3)) return fmt(value);
  const d = Math.max(decimalsFor(value, 3), Number.isFinite(spread) ? decimalsFor(spread, 2) : 0);
  return minus(value.toFixed(Math.min(6, d)));
}

/** `mean ± spread` with matching decimals; just the mean when the spread is missing. */
export function fmtPm(mean: number, spread: number): string {
  if (!Number.isFinite(spread) || !Number.isFinite(mean)) return fmt(mean);
  if (Math.abs(mean) >= 1e6 || (mean !== 0 && Math.abs(mean) < 1e-3)) {
    return `${fmt(mean)} ± ${fmt(Math.abs(spread), 2)}`;
  }
  const d = Math.min(6, Math.max(decimalsFor(mean, 3), decimalsFor(spread, 2)));
  return `${minus(mean.toFixed(d))} ± ${Math.abs(spread).toFixed(d)}`;
}

/**
 * A signed estimate with its interval half-width, both rounded to 2
 * significant digits of the half-width (`−0.30 ± 0.40`, `+0.125 ± 0.011`).
 */
export function fmtCi(x: number, half: number): string {
  if (!Number.isFinite(half) || half === 0 || !Number.isFinite(x)) {
    return `${fmtSigned(x)}${Number.isFinite(half) ? ` ± ${fmt(half)}` : ""}`;
  }
  const d = decimalsFor(half, 2);
  const v = minus(x.toFixed(d));
  return `${x > 0 && Number(x.toFixed(d)) !== 0 ? "+" : ""}${v} ± ${half.toFixed(d)}`;
}

/**
 * A signed estimate with an interval that is not symmetric (cut at a range),
 * all rounded to 2 significant digits of the t half-width: `+0.13 [−0.83, +1.00]`.
 */
export function fmtCiRange(x: number, lo: number, hi: number, half: number): string {
  if (!Number.isFinite(half) || half === 0) return fmtCi(x, half);
  const d = decimalsFor(half, 2);
  const signed = (v: number) =>
    `${v > 0 && Number(v.toFixed(d)) !== 0 ? "+" : ""}${minus(v.toFixed(d))}`;
  return `${signed(x)} [${signed(lo)}, ${signed(hi)}]`;
}

/** A signed number (`+0.12`, `−0.3`). */
export function fmtSigned(x: number, spread = NaN): string {
  const s = fmtWith(x, spread);
  return x > 0 ? `+${s}` : s;
}

/** A p-value: `p = 0.094`, `p < 0.001`, `p = –`. */
export function fmtP(p: number): string {
  if (Number.isNaN(p)) return "p = –";
  if (p < 0.001) return "p < 0.001";
  return `p = ${p >= 0.1 ? p.toFixed(2) : p.toFixed(3)}`;
}

/** Seconds as `8.2 s`, `3 min 05 s`, `1 h 02 min`. */
export function fmtDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return "–";
  if (s < 60) return `${fmt(s, s < 10 ? 2 : 3)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Whole numbers with thin-space thousands separators (`1 234 567`). */
export function fmtInt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return minus(Math.round(n).toString()).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
}

/** An ISO time as `2026-11-27 05:12 UTC` ("–" when missing or unparseable). */
export function fmtDate(iso: string | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Escapes text for HTML and XML (text and attribute values). */
export function esc(s: unknown): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A number for a `data-*` attribute: full precision, "" when missing. */
export function raw(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "" : String(x);
}
