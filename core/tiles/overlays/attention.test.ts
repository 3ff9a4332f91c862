// The attention and token-norm heatmaps' colour scale: the overlay offers the same range and ramp it draws
// with (HeatmapStore's 2nd to 98th percentile, the viridis ramp), for the colour bar of the layers panel.
import { describe, expect, it } from 'vitest';
import { dziGeometry } from '../dzi.js';
import { HeatmapOverlay, HeatmapStore, ramp, scaleOf } from './attention.js';

const hex = (c: readonly number[]): string => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

describe('HeatmapOverlay.scaleFor', () => {
  it("gives the map's own range, unit and ramp, and nothing for an image without a map", () => {
    const store = new HeatmapStore();
    const values = Float32Array.from({ length: 100 }, (_, i) => i / 10); // 0.0 … 9.9
    store.set('a', 'attention', { x: 0, y: 0, stride: 16, gridWidth: 10, gridHeight: 10, values, unit: '× uniform' });
    const overlay = new HeatmapOverlay('attention', store, async () => dziGeometry(160, 160));
    const scale = overlay.scaleFor('a')!;
    expect({ min: scale.min, max: scale.max }).toEqual({ min: scaleOf(values).lo, max: scaleOf(values).hi });
    expect(scale.min).toBeCloseTo(0.1, 5);
    expect(scale.max).toBeCloseTo(9.8, 5);
    expect(scale.unit).toBe('× uniform');
    expect(scale.colors[0]).toBe(hex(ramp(0)));
    expect(scale.colors.at(-1)).toBe(hex(ramp(1)));
    expect(scale.colors[Math.floor(scale.colors.length / 2)]).toBe(hex(ramp(0.5)));
    expect(overlay.scaleFor('b')).toBeUndefined();
    expect(new HeatmapOverlay('token-norm', store, async () => dziGeometry(160, 160)).scaleFor('a')).toBeUndefined();
  });
});
