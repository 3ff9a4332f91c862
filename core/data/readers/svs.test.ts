// Aperio SVS-like fixtures (our TIFF writer): levels, mpp, associated images, and JPEG colour handling
// for RGB-component tiles (Photometric 2) and YCbCr tiles (Photometric 6).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRgb } from '../fixtures/compare.js';
import { patternLevel } from '../fixtures/levels.js';
import { PATTERN_CELL, PATTERN_PALETTE, patternCellColour, patternRgb } from '../fixtures/pattern.js';
import { writeSvsLike } from '../fixtures/svs.js';
import { completeJpeg } from '../tiff/jpeg.js';
import { parseTiff, tagBytes, tagNumbers } from '../tiff/parse.js';
import { FileSource } from '../tiff/source.js';
import { Tag } from '../tiff/tags.js';
import { openImage } from './registry.js';

let dir: string;
const W = 2000;
const H = 1500;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-svs-'));
  await writeSvsLike(join(dir, 'rgb.svs'), { width: W, height: H, mpp: 0.252, appMag: 40, photometric: 'rgb' });
  await writeSvsLike(join(dir, 'ycc.svs'), { width: W, height: H, mpp: 0.5, appMag: 20, photometric: 'ycbcr' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every cell centre in the region has the palette's hue (each channel within 40). */
function expectHues(data: Uint8Array, x: number, y: number, w: number, h: number): void {
  for (let py = Math.ceil(y / PATTERN_CELL) * PATTERN_CELL + 64; py < y + h; py += PATTERN_CELL) {
    for (let px = Math.ceil(x / PATTERN_CELL) * PATTERN_CELL + 64; px < x + w; px += PATTERN_CELL) {
      const want = PATTERN_PALETTE[patternCellColour(px, py)];
      const i = ((py - y) * w + (px - x)) * 3;
      const bad = [0, 1, 2].some((c) => Math.abs(data[i + c] - want[c]) >= 40);
      if (bad) expect([px, py, ...data.subarray(i, i + 3)]).toEqual([px, py, ...want]);
    }
  }
}

describe('Aperio SVS', () => {
  it('parses levels, mpp, vendor fields and associated images', async () => {
    const r = await openImage(join(dir, 'rgb.svs'));
    expect(r.meta.format).toBe('svs');
    expect(r.meta.mpp).toBeCloseTo(0.252, 6);
    expect(r.meta.levels.map((l) => [l.width, l.height, l.downsample])).toEqual([
      [2000, 1500, 1],
      [500, 375, 4],
      [125, 94, 16],
    ]);
    expect(r.meta.vendor['aperio.AppMag']).toBe('40');
    expect(r.meta.vendor['aperio.ScanScope ID']).toBe('SS1302');
    expect(r.meta.vendor.associatedImages).toBe('thumbnail,label,macro');
    expect(r.meta.vendor['associated.macro']).toBe('300x100');
    await r.close();
  });

  it.each(['rgb.svs', 'ycc.svs'])('%s: level-0 and reduced regions within JPEG tolerance, right hues', async (name) => {
    const r = await openImage(join(dir, name));
    const [x, y, w, h] = [300, 200, 1000, 900];
    const reg = await r.readRegion(0, x, y, w, h);
    const d = diffRgb(reg.data, patternRgb(x, y, w, h), w);
    // JPEG Q90, 4:4:4: mean |error| < 1.5, max ≤ 8 (the same bounds as libvips' own tiles).
    expect(d.meanAbs).toBeLessThan(1.5);
    expect(d.maxAbs).toBeLessThanOrEqual(8);
    expectHues(reg.data, x, y, w, h);
    const ref = await patternLevel(W, H, 500, 375);
    const low = await r.readRegion(1, 0, 0, 500, 375);
    expect(diffRgb(low.data, ref.data, 500).meanAbs).toBeLessThan(1.5);
    await r.close();
  });

  it('the RGB fixture really needs the Photometric fix: decoded as YCbCr its hues are wrong', async () => {
    const src = await FileSource.open(join(dir, 'rgb.svs'));
    const ifd = (await parseTiff(src)).ifds[0];
    const tile = await src.read(tagNumbers(ifd, Tag.TileOffsets)[0], tagNumbers(ifd, Tag.TileByteCounts)[0], 'tile');
    const naive = await sharp(completeJpeg(tile, tagBytes(ifd, Tag.JPEGTables), false))
      .raw()
      .toBuffer();
    await src.close();
    const want = patternRgb(0, 0, 256, 256);
    expect(diffRgb(new Uint8Array(naive), want, 256).meanAbs).toBeGreaterThan(20);
  });
});
