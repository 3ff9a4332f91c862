// A small line plot drawn into a raw RGB buffer (sharp encodes it as PNG): axes, grid lines with numeric
// tick labels in a 3 × 5 pixel font (digits and '.'), one polyline with dots per series, dashed lines for
// constant references. No text beyond numbers: captions name the series by colour.

export type Rgb = readonly [number, number, number];

export interface PlotSeries {
  colour: Rgb;
  points: readonly (readonly [number, number])[];
  /** A horizontal reference (drawn dashed across the plot at points[0][1]). */
  reference?: boolean;
}

export interface PlotSpec {
  width: number;
  height: number;
  x: { min: number; max: number; ticks: readonly number[] };
  y: { min: number; max: number; ticks: readonly number[] };
  series: readonly PlotSeries[];
}

const FONT: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  '-': '000000111000000',
};

export function linePlot(spec: PlotSpec): Buffer {
  const { width: w, height: h } = spec;
  const buf = Buffer.alloc(w * h * 3, 255);
  const put = (x: number, y: number, c: Rgb): void => {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    buf.set(c, 3 * (y * w + x));
  };
  const left = 44;
  const right = w - 12;
  const top = 12;
  const bottom = h - 28;
  const px = (x: number): number => left + ((x - spec.x.min) / (spec.x.max - spec.x.min)) * (right - left);
  const py = (y: number): number => bottom - ((y - spec.y.min) / (spec.y.max - spec.y.min)) * (bottom - top);
  const line = (x0: number, y0: number, x1: number, y1: number, c: Rgb, dash = 0, thick = 1): void => {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) {
      if (dash && Math.floor(i / dash) % 2) continue;
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let t = 0; t < thick; t++) put(x, y + t - Math.floor(thick / 2), c);
    }
  };
  const text = (s: string, x: number, y: number, scale = 2): void => {
    for (const ch of s) {
      const g = FONT[ch];
      if (g)
        for (let i = 0; i < 15; i++)
          if (g[i] === '1')
            for (let a = 0; a < scale; a++)
              for (let b = 0; b < scale; b++) put(x + (i % 3) * scale + a, y + Math.floor(i / 3) * scale + b, [60, 60, 60]);
      x += 4 * scale;
    }
  };
  const grid: Rgb = [225, 225, 225];
  for (const t of spec.y.ticks) {
    line(left, py(t), right, py(t), grid);
    const s = String(t);
    text(s, left - 6 - s.length * 8, py(t) - 5);
  }
  for (const t of spec.x.ticks) {
    line(px(t), top, px(t), bottom, grid);
    const s = String(t);
    text(s, px(t) - s.length * 4, bottom + 8);
  }
  line(left, bottom, right, bottom, [80, 80, 80]);
  line(left, top, left, bottom, [80, 80, 80]);
  for (const s of spec.series) {
    if (s.reference) {
      const y = py(s.points[0][1]);
      line(left, y, right, y, s.colour, 6, 2);
      continue;
    }
    for (let i = 1; i < s.points.length; i++)
      line(px(s.points[i - 1][0]), py(s.points[i - 1][1]), px(s.points[i][0]), py(s.points[i][1]), s.colour, 0, 2);
    for (const [x, y] of s.points)
      for (let a = -3; a <= 3; a++) for (let b = -3; b <= 3; b++) if (a * a + b * b <= 9) put(px(x) + a, py(y) + b, s.colour);
  }
  return buf;
}
