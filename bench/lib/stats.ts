// Small statistics for benchmarks: medians and spreads of per-round times.

/** The median of `xs` (the mean of the middle two for an even count). Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new Error('quantile: no values');
  const s = [...xs].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** "median [p25–p75]" in milliseconds, for a log line. */
export function fmtMs(xs: readonly number[]): string {
  return `${median(xs).toFixed(1)} ms [${quantile(xs, 0.25).toFixed(1)}–${quantile(xs, 0.75).toFixed(1)}]`;
}
