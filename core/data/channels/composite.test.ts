// Composite and defaults on hand-made samples: additive blending with clamping, contrast limits and gamma,
// hidden channels; the starting display (file colours, palette, at most 6 shown, active flags, windows);
// histograms and their quantile limits; display checks and keys.
import { describe, expect, it } from 'vitest';
import type { ChannelInfo } from '../../common/api.js';
import { composite } from './composite.js';
import { defaultDisplay, MAX_DEFAULT_VISIBLE, PALETTE } from './defaults.js';
import { checkDisplay, displayKey } from './display.js';
import { channelHistograms } from './histogram.js';

const info = (o: Partial<ChannelInfo> = {}): ChannelInfo => ({
  name: 'c',
  color: null,
  emissionNm: null,
  sampleType: 'uint16',
  range: [0, 65535],
  ...o,
});

describe('composite', () => {
  it('adds the visible channels in their colours, scaled by their limits, and clamps', () => {
    // 2 channels × 3 pixels: [below min, middle, above max] and [0, 1000, 1000].
    const img = { data: Float32Array.from([50, 550, 5000, 0, 1000, 1000]), width: 3, height: 1, channels: 2 };
    const rgb = composite(img, [
      { color: [255, 0, 0], visible: true, min: 100, max: 1000 },
      { color: [255, 255, 0], visible: true, min: 0, max: 1000 },
    ]);
    expect(Array.from(rgb.data)).toEqual([0, 0, 0, 255, 255, 0, 255, 255, 0]); // 127.5 + 255 clamps to 255
    const hidden = composite(img, [
      { color: [255, 0, 0], visible: true, min: 100, max: 1000, gamma: 2 },
      { color: [255, 255, 0], visible: false, min: 0, max: 1000 },
    ]);
    expect(Array.from(hidden.data)).toEqual([0, 0, 0, 64, 0, 0, 255, 0, 0]); // 0.5² × 255
  });
});

describe('defaults', () => {
  it('file colours first, then the palette; at most 6 shown; active flags and windows respected', () => {
    const eight = Array.from({ length: 8 }, (_, i) => info({ color: i === 1 ? [10, 20, 30] : null }));
    const d = defaultDisplay(eight);
    expect(d.map((x) => x.visible)).toEqual([true, true, true, true, true, true, false, false]);
    expect(d.filter((x) => x.visible)).toHaveLength(MAX_DEFAULT_VISIBLE);
    expect(d[0].color).toEqual(PALETTE[0]);
    expect(d[1].color).toEqual([10, 20, 30]);
    expect(defaultDisplay([info()])[0].color).toEqual([255, 255, 255]); // one channel: grey
    const active = defaultDisplay([info({ active: false, window: [5, 50] }), info({ active: true })]);
    expect(active.map((x) => [x.visible, x.min, x.max])).toEqual([
      [false, 5, 50],
      [true, 0, 65535],
    ]);
  });

  it('histograms count every sample; auto limits are the 0.1 % / 99.9 % quantiles', () => {
    const n = 10000;
    const data = new Float32Array(n).map((_, i) => i); // 0 … 9999
    data[0] = 1e6; // one hot pixel
    const [h] = channelHistograms({ data, width: 100, height: 100, channels: 1 }, 10);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(h.max).toBe(1e6);
    expect(h.autoMin).toBe(10);
    expect(h.autoMax).toBe(9990); // the hot pixel does not set the range
  });

  it('checks display settings against the image and keys them', () => {
    const chans = [info({ name: 'DAPI' })];
    expect(() => checkDisplay('x.tif', chans, [])).toThrow(/has 1 channels; the display settings list 0/);
    expect(() => checkDisplay('x.tif', chans, [{ color: [1, 2, 3], visible: true, min: 4, max: 4 }])).toThrow(
      /DAPI.*maximum \(4\) must be above/,
    );
    const ok = checkDisplay('x.tif', chans, [{ color: [1, 2, 3], visible: true, min: 0, max: 4, gamma: 1 }]);
    expect(ok).toEqual([{ color: [1, 2, 3], visible: true, min: 0, max: 4 }]);
    expect(displayKey(ok)).toMatch(/^[0-9a-f]{8}$/);
    expect(displayKey(ok)).not.toBe(displayKey([{ ...ok[0], visible: false }]));
  });
});
