// Per-channel robust scaling of multi-channel samples: background maps to ~0 whatever the camera offset,
// the bright structures to ~1 whatever the exposure, a hot pixel does not set the scale, a flat channel
// falls back to its type range; the model inputs are the scaled samples normalised as documented.
import { describe, expect, it } from 'vitest';
import type { ChannelInfo } from '../common/api.js';
import { mulberry32 } from '../common/random.js';
import { CHANNEL_MEAN, CHANNEL_STD, IMAGENET_MEAN, IMAGENET_STD } from '../model/input-norm.js';
import { channelWindows, channelsInputInto, greyInputInto, scaleChannels } from './channel-scaling.js';
import type { ChannelImage } from './reader.js';

const u16 = (name: string): ChannelInfo => ({ name, color: null, emissionNm: null, sampleType: 'uint16', range: [0, 65535] });

/** 3 channels, 100 × 100: a dim one (offset 200, signal +1500 in a square), a bright one with a hot pixel, a flat one. */
function image(): ChannelImage {
  const [w, h] = [100, 100];
  const plane = w * h;
  const r = mulberry32(4);
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const inSquare = x >= 40 && x < 60 && y >= 40 && y < 60; // 4 % of the image
      data[i] = 200 + 20 * r() + (inSquare ? 1500 : 0);
      data[plane + i] = 3000 + 100 * r() + (x < 10 ? 30000 : 0);
      data[2 * plane + i] = 7;
    }
  data[plane + 7070] = 65535; // a hot pixel
  return { data, width: w, height: h, channels: 3 };
}

describe('channel windows and scaling', () => {
  it('maps each channel from its background to its bright structures, ignoring a hot pixel', () => {
    const img = image();
    const windows = channelWindows(img, [u16('DAPI'), u16('GFP'), u16('empty')]);
    expect(windows[0].low).toBeGreaterThanOrEqual(200);
    expect(windows[0].low).toBeLessThan(205);
    expect(windows[0].high).toBeGreaterThan(1700);
    expect(windows[1].high).toBeLessThan(33200); // not the hot pixel's 65535
    expect(windows[2]).toEqual({ low: 0, high: 65535 }); // flat: the type range
    const s = scaleChannels(img, windows);
    const plane = 100 * 100;
    const at = (c: number, x: number, y: number): number => s[c * plane + y * 100 + x];
    expect(at(0, 5, 5)).toBeLessThan(0.02); // background
    expect(at(0, 50, 50)).toBeGreaterThan(0.95); // the square
    expect(at(1, 50, 50)).toBeLessThan(0.02);
    expect(at(1, 5, 5)).toBeGreaterThan(0.95);
    expect(at(1, 50, 50)).toBeGreaterThanOrEqual(0);
    expect(s[plane + 7070]).toBe(1); // the hot pixel clamps
    expect(at(2, 3, 3)).toBeCloseTo(7 / 65535, 9);
    expect(Math.min(...s)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...s)).toBeLessThanOrEqual(1);
  });

  it('an exposure change (gain and offset) leaves the scaled image unchanged', () => {
    const a = image();
    const b = { ...a, data: a.data.map((v, i) => (i < 10000 ? 3 * v + 500 : v)) };
    const info = [u16('a'), u16('b'), u16('c')];
    const sa = scaleChannels(a, channelWindows(a, info));
    const sb = scaleChannels(b, channelWindows(b, info));
    let worst = 0;
    for (let i = 0; i < 10000; i++) worst = Math.max(worst, Math.abs(sa[i] - sb[i]));
    expect(worst).toBeLessThan(1e-5);
  });

  it('refuses windows for a channel count other than the metadata lists', () => {
    expect(() => channelWindows(image(), [u16('a')])).toThrow(/3 channels but its metadata lists 1/);
  });

  it('writes C-channel and grey-as-RGB model inputs', () => {
    const scaled = Float32Array.from([0, 0.5, 1, 0.25, 0.75, 0.1]); // (C 3, 1, 2)
    const multi = new Float32Array(2 * 6);
    channelsInputInto(scaled, multi, 1);
    expect(multi[6 + 2]).toBeCloseTo((1 - CHANNEL_MEAN) / CHANNEL_STD, 6);
    expect(multi[0]).toBe(0);
    const grey = new Float32Array(6);
    greyInputInto(scaled, 2, 1, grey, 0); // channel 1: [1, 0.25]
    for (let k = 0; k < 3; k++) {
      expect(grey[2 * k]).toBeCloseTo((1 - IMAGENET_MEAN[k]) / IMAGENET_STD[k], 6);
      expect(grey[2 * k + 1]).toBeCloseTo((0.25 - IMAGENET_MEAN[k]) / IMAGENET_STD[k], 6);
    }
  });
});
