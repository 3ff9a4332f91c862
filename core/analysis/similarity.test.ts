// The heatmap colour scale and colours of a click (heatScale, similarityRgba) on a known cosine map.
import { describe, expect, it } from 'vitest';
import { similarityColor, similarityRgba } from '../tiles/overlays/similarity.js';
import { heatColours, heatScale } from './similarity.js';

describe('heat colours', () => {
  it('scale: hi = 99.9th percentile, lo halfway from the median; NaN cells ignored and left clear', () => {
    const scores = new Float32Array(4002).fill(NaN); // 2001 cells from −1 to 1, every other cell NaN (no patch)
    for (let i = 0; i <= 2000; i++) scores[2 * i] = -1 + i / 1000;
    const { lo, hi } = heatScale(scores);
    expect(hi).toBeCloseTo(0.998, 2); // within the 2048-bin histogram's resolution
    expect(lo).toBeCloseTo((0 + hi) / 2, 2);
    const { rgba } = heatColours(scores);
    const px = (i: number): number[] => Array.from(rgba.subarray(4 * i, 4 * i + 4));
    expect(px(1)).toEqual([0, 0, 0, 0]); // NaN
    expect(px(2 * 400)).toEqual([0, 0, 0, 0]); // −0.6: below the scale
    expect(px(2 * 2000).slice(0, 3)).toEqual(similarityColor(1)); // 1.0 ≥ hi: top of the ramp
    expect(px(2 * 2000)[3]).toBe(235);
  });

  it('colours: lo → ramp start, the midpoint → ramp middle, hi and above → ramp end', () => {
    const rgba = similarityRgba(Float32Array.of(0.2, 0.4, 0.6, 0.9, 0.19, NaN), 0.2, 0.6);
    const px = (i: number): number[] => Array.from(rgba.subarray(4 * i, 4 * i + 4));
    expect(px(0)).toEqual([...similarityColor(0), 110]);
    expect(px(1)).toEqual([...similarityColor(128 / 255), Math.round(110 + (125 * 128) / 255)]);
    expect(px(2)).toEqual([...similarityColor(1), 235]);
    expect(px(3)).toEqual([...similarityColor(1), 235]);
    expect(px(4)).toEqual([0, 0, 0, 0]);
    expect(px(5)).toEqual([0, 0, 0, 0]);
  });
});
