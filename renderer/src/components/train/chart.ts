// Pure helpers of the SVG line chart (LineChart.svelte): min/max downsampling, linear and log scales,
// tick values and the SVG path of a series. No DOM here.

export interface Point {
  x: number;
  y: number;
}

/** One line of a chart: x is the step. */
export interface ChartSeries {
  key: string;
  label: string;
  color: string;
  points: Point[];
}

/** At most `max` points of `points` (sorted by x): each of max/2 equal-count buckets keeps its lowest and
 * highest point in x order, so spikes (a NaN-bound loss, a collapse) survive the thinning. */
export function downsample(points: readonly Point[], max = 1000): Point[] {
  if (points.length <= max) return points.slice();
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(points.length, Math.floor((b + 1) * size));
    if (end <= start) continue;
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (points[i].y < points[lo].y) lo = i;
      if (points[i].y > points[hi].y) hi = i;
    }
    if (lo === hi) out.push(points[lo]);
    else if (lo < hi) out.push(points[lo], points[hi]);
    else out.push(points[hi], points[lo]);
  }
  return out;
}

export interface Scale {
  /** Data value → pixel. */
  map(v: number): number;
  /** Pixel → data value. */
  invert(px: number): number;
  ticks: number[];
  domain: [number, number];
}

/** 1, 2 or 5 × a power of ten, about `count` steps across [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/** A linear scale of [lo, hi] (widened to nice ends) onto [p0, p1] pixels. */
export function linearScale(lo: number, hi: number, p0: number, p1: number, tickCount = 5): Scale {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(lo, hi, tickCount);
  const a = Math.floor(lo / step) * step;
  const b = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = a; t <= b + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : +t.toPrecision(12));
  const k = (p1 - p0) / (b - a);
  return { map: (v) => p0 + (v - a) * k, invert: (px) => a + (px - p0) / k, ticks, domain: [a, b] };
}

/** A base-10 log scale of [lo, hi] (both > 0, widened to decades or to 1-2-5 steps) onto [p0, p1]. */
export function logScale(lo: number, hi: number, p0: number, p1: number): Scale {
  let a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b <= a) b = a + 1;
  const ticks: number[] = [];
  const mult = b - a <= 2 ? [1, 2, 5] : [1];
  for (let e = a; e <= b; e++) for (const m of mult) if (e < b || m === 1) ticks.push(+(m * 10 ** e).toPrecision(12));
  a = Math.max(a, Math.log10(lo) - 0.05);
  b = Math.min(b, Math.log10(hi) + 0.05);
  const k = (p1 - p0) / (b - a);
  const inRange = ticks.filter((t) => Math.log10(t) >= a - 1e-9 && Math.log10(t) <= b + 1e-9);
  return {
    map: (v) => p0 + (Math.log10(v) - a) * k,
    invert: (px) => 10 ** (a + (px - p0) / k),
    ticks: inRange,
    domain: [10 ** a, 10 ** b],
  };
}

/** "M x y L x y …" through the points, rounded to 0.1 px; a non-finite y breaks the line. */
export function linePath(points: readonly Point[], sx: Scale, sy: Scale): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    const y = sy.map(p.y);
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx.map(p.x).toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** Index of the point whose x is nearest `x` (points sorted by x), or -1 when empty. */
export function nearestIndex(points: readonly Point[], x: number): number {
  if (points.length === 0) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[hi].x - x) < Math.abs(points[lo].x - x) ? hi : lo;
}

/** A tick label: 0.0012 → "1.2e-3", 12000 → "12k", else up to 3 significant digits. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 1e-2) return v.toExponential(0);
  return String(+v.toPrecision(3));
}
