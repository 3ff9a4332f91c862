// The chart helpers on plain numbers: downsampling keeps the extremes within the point budget, scales
// invert, nice ticks, the nearest point, and paths broken at non-finite values.
import { describe, expect, it } from 'vitest';
import { downsample, linePath, linearScale, logScale, nearestIndex, niceStep, type Point } from './chart.js';

const series = (n: number, f: (i: number) => number): Point[] => Array.from({ length: n }, (_, i) => ({ x: i + 1, y: f(i) }));

describe('chart helpers', () => {
  it('downsamples to at most the budget, in x order, keeping every spike', () => {
    const pts = series(100_000, (i) => Math.sin(i / 500));
    pts[31_337].y = 50;
    pts[77_777].y = -50;
    const d = downsample(pts, 1000);
    expect(d.length).toBeLessThanOrEqual(1000);
    expect(d.length).toBeGreaterThan(900);
    for (let i = 1; i < d.length; i++) expect(d[i].x).toBeGreaterThan(d[i - 1].x);
    expect(d.some((p) => p.y === 50)).toBe(true);
    expect(d.some((p) => p.y === -50)).toBe(true);
    expect(downsample(pts.slice(0, 10), 1000)).toEqual(pts.slice(0, 10));
  });

  it('maps and inverts linear and log scales over nice ticks', () => {
    const s = linearScale(0.3, 9.2, 0, 100);
    expect(s.domain).toEqual([0, 10]);
    expect(s.ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(s.invert(s.map(3.7))).toBeCloseTo(3.7, 12);
    expect(niceStep(0, 1, 4)).toBe(0.2);
    const l = logScale(0.02, 30, 200, 0);
    expect(l.map(1)).toBeGreaterThan(l.map(10));
    expect(l.invert(l.map(2.5))).toBeCloseTo(2.5, 10);
    expect(l.ticks).toEqual([0.1, 1, 10]);
    const flat = linearScale(5, 5, 0, 10);
    expect(flat.domain[0]).toBeLessThan(5);
    expect(flat.domain[1]).toBeGreaterThan(5);
  });

  it('finds the nearest point and breaks the path at non-finite values', () => {
    const pts = series(10, (i) => i);
    expect(nearestIndex(pts, 4.4)).toBe(3);
    expect(nearestIndex(pts, 4.6)).toBe(4);
    expect(nearestIndex([], 1)).toBe(-1);
    const sx = linearScale(1, 3, 0, 100);
    const sy = logScale(1, 100, 100, 0);
    expect(
      linePath(
        [
          { x: 1, y: 1 },
          { x: 2, y: -1 },
          { x: 3, y: 10 },
        ],
        sx,
        sy,
      ).match(/M/g),
    ).toHaveLength(2);
  });
});
