// The one pyramid/resolution rule: level choice with one tolerance, µm per pixel of levels, images without
// µm per pixel, and collections whose images state different µm per pixel. Level lists are those real
// readers produce: the levels of pyramidal TIFFs written here, and odd downsamples from rounded sizes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageMetadata } from '../common/api.js';
import { writePyramidalTiff } from './fixtures/pyramidal-tiff.js';
import { openImage } from './readers/registry.js';
import { DOWNSAMPLE_TOLERANCE, downsampleOf, levelForDownsample, levelMpp, sameDownsample, scaleFor } from './resolution.js';

const levels = (...ds: number[]): { downsample: number }[] => ds.map((downsample) => ({ downsample }));
const meta = (mpp: number | null, ...ds: number[]): Pick<ImageMetadata, 'mpp' | 'levels'> => ({
  mpp,
  levels: ds.map((d) => ({ width: Math.round(10001 / d), height: Math.round(10001 / d), downsample: d })),
});

describe('level for a downsample', () => {
  it('is the coarsest level that needs no upsampling', () => {
    const l = levels(1, 2, 4, 8);
    expect(levelForDownsample(l, 1)).toBe(0);
    expect(levelForDownsample(l, 3)).toBe(1);
    expect(levelForDownsample(l, 4)).toBe(2);
    expect(levelForDownsample(l, 100)).toBe(3);
    expect(levelForDownsample(l, 0.5)).toBe(0);
    expect(levelForDownsample(levels(1, 4), 2)).toBe(0);
  });

  it('takes a level a rounded size made slightly coarser (4.0003 for 4), within 0.1% and no further', () => {
    const l = levels(1, 4.0003, 16);
    expect(levelForDownsample(l, 8)).toBe(1);
    expect(levelForDownsample(l, 4)).toBe(1);
    expect(sameDownsample(4, 4.0003)).toBe(true);
    // 10001-px level 0 halved twice by whole pixels: 2500.25 → 2501 px wide, downsample 3.9988.
    expect(downsampleOf(10001, 2501)).toBeCloseTo(3.9988, 4);
    expect(levelForDownsample(levels(1, downsampleOf(10001, 5001), downsampleOf(10001, 2501)), 4)).toBe(2);
    // Just past the tolerance is a coarser level: it would be upsampled, so the finer one is read.
    const past = 4 * (1 + 2 * DOWNSAMPLE_TOLERANCE);
    expect(levelForDownsample(levels(1, 2, past), 4)).toBe(1);
    expect(sameDownsample(4, past)).toBe(false);
    // Order of the list does not matter.
    expect(levelForDownsample(levels(4.0003, 1, 16), 5)).toBe(0);
  });

  it('reads the levels real pyramidal TIFFs report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dinoscope-resolution-'));
    try {
      const path = join(dir, 'odd.tif');
      await writePyramidalTiff(path, { width: 3001, height: 2001, tile: 256, compression: 'jpeg', pixelsPerMm: 4000 }); // 0.25 µm/px
      const reader = await openImage(path);
      try {
        const m = reader.meta;
        // libvips floors each halving: 1500, 750, 375, 187 px wide (downsamples 2.0007, 4.0013, 8.0027, 16.048).
        expect(m.levels.map((l) => l.width)).toEqual([3001, 1500, 750, 375, 187]);
        for (let i = 1; i < m.levels.length; i++) {
          expect(m.levels[i].downsample).toBe(downsampleOf(m.width, m.levels[i].width));
          expect(levelForDownsample(m.levels, m.levels[i].downsample)).toBe(i);
          expect(levelMpp(m, i)).toBeCloseTo(0.25 * m.levels[i].downsample, 9);
        }
        // The nominal powers of two name levels 1-3 (0.03% off); the 187-px level is 0.3% coarser than 16×,
        // so 16× is read from the 8× level and reduced (never upsampled).
        expect([2, 4, 8, 16].map((d) => levelForDownsample(m.levels, d))).toEqual([1, 2, 3, 3]);
        const s = scaleFor(m, { mpp: 1 });
        expect(s).toMatchObject({ downsample: 4, level: 2, levelDownsample: 3001 / 750, mpp: 1, mppFallback: false });
      } finally {
        await reader.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('µm per pixel', () => {
  it('of a level is level 0 µm per pixel times its downsample, null when the image states none', () => {
    expect(levelMpp(meta(0.25, 1, 4.0003), 1)).toBeCloseTo(1.000075, 9);
    expect(levelMpp(meta(null, 1, 4), 1)).toBeNull();
    expect(levelMpp(meta(0.25, 1), 3)).toBeNull();
  });

  it('an image without µm per pixel is read at the fallback level (default 0), flagged', () => {
    expect(scaleFor(meta(null, 1, 2, 4), { mpp: 0.5 })).toEqual({
      downsample: 1,
      level: 0,
      levelDownsample: 1,
      mpp: null,
      mppFallback: true,
    });
    expect(scaleFor(meta(null, 1, 2, 4), { mpp: 0.5, level: 2 })).toEqual({
      downsample: 4,
      level: 2,
      levelDownsample: 4,
      mpp: null,
      mppFallback: true,
    });
    // A fallback level past the coarsest is the coarsest.
    expect(scaleFor(meta(null, 1, 2), { mpp: 0.5, level: 5 })).toMatchObject({ downsample: 2, level: 1, mppFallback: true });
    // Asked by level, nothing falls back.
    expect(scaleFor(meta(null, 1, 2), { level: 1 })).toEqual({
      downsample: 2,
      level: 1,
      levelDownsample: 2,
      mpp: null,
      mppFallback: false,
    });
  });

  it('a mixed collection reaches one µm per pixel through different levels; the one without mpp falls back', () => {
    const want = { mpp: 1 };
    const at40x = scaleFor(meta(0.25, 1, 4.0003, 16.001), want);
    const at20x = scaleFor(meta(0.5, 1, 2, 4), want);
    const odd = scaleFor(meta(0.3, 1, 4, 16), want);
    const none = scaleFor(meta(null, 1, 4, 16), want);
    expect(at40x).toMatchObject({ downsample: 4, level: 1, levelDownsample: 4.0003, mpp: 1, mppFallback: false });
    expect(at20x).toMatchObject({ downsample: 2, level: 1, levelDownsample: 2, mpp: 1, mppFallback: false });
    expect(odd.downsample).toBeCloseTo(1 / 0.3, 12);
    expect(odd).toMatchObject({ level: 0, levelDownsample: 1, mppFallback: false });
    expect(odd.mpp).toBeCloseTo(1, 12);
    expect(none).toEqual({ downsample: 1, level: 0, levelDownsample: 1, mpp: null, mppFallback: true });
  });

  it('a µm per pixel finer than the scan is read at level 0 (the caller decides whether to upsample)', () => {
    expect(scaleFor(meta(0.5, 1, 2), { mpp: 0.25 })).toEqual({
      downsample: 0.5,
      level: 0,
      levelDownsample: 1,
      mpp: 0.25,
      mppFallback: false,
    });
  });
});
