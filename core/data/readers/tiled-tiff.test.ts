// Tiled pyramidal TIFF and BigTIFF written by libvips, read by our own TIFF parser and tile decoders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRgb } from '../fixtures/compare.js';
import { PATTERN_CELL, PATTERN_PALETTE, patternCellColour, patternRgb } from '../fixtures/pattern.js';
import { writePyramidalTiff } from '../fixtures/pyramidal-tiff.js';
import { openImage } from './registry.js';
import { TiledTiffReader } from './tiled-tiff.js';

let dir: string;
const W = 3000;
const H = 2200;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-tiled-'));
  await Promise.all([
    writePyramidalTiff(file('jpeg.tif'), { width: W, height: H, compression: 'jpeg', quality: 90, pixelsPerMm: 4000 }),
    writePyramidalTiff(file('deflate.tif'), { width: W, height: H, compression: 'deflate' }),
    writePyramidalTiff(file('lzw.tif'), { width: W, height: H, compression: 'lzw', tile: 512 }),
    writePyramidalTiff(file('none.tif'), { width: W, height: H, compression: 'none' }),
    writePyramidalTiff(file('big.tif'), { width: W, height: H, compression: 'jpeg', bigtiff: true }),
    writePyramidalTiff(file('wide.tif'), { width: 12000, height: 9000, compression: 'jpeg' }),
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reference decode of one page (level) by libvips/libtiff. */
async function pageReference(path: string, page: number, x: number, y: number, w: number, h: number): Promise<Uint8Array> {
  const { data } = await sharp(path, { page })
    .extract({ left: x, top: y, width: w, height: h })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

describe('tiled pyramidal TIFF', () => {
  it('reports levels, tile size and mpp from XResolution', async () => {
    const r = await openImage(file('jpeg.tif'));
    expect(r.meta.format).toBe('tiled-tiff');
    expect([r.meta.width, r.meta.height, r.meta.tileWidth, r.meta.tileHeight]).toEqual([W, H, 256, 256]);
    expect(r.meta.levels.map((l) => [l.width, l.height])).toEqual([
      [3000, 2200],
      [1500, 1100],
      [750, 550],
      [375, 275],
      [187, 137],
    ]);
    expect(r.meta.levels[1].downsample).toBe(2);
    expect(r.meta.mpp).toBeCloseTo(0.25, 6); // 4000 px/mm
    await r.close();
  });

  it.each(['deflate.tif', 'lzw.tif', 'none.tif'])('%s: level-0 regions equal the pattern exactly, across tile edges', async (name) => {
    const r = await openImage(file(name));
    for (const [x, y, w, h] of [
      [0, 0, 300, 200],
      [1000, 700, 600, 500],
      [2900, 2100, 100, 100],
      [255, 255, 2, 2],
    ]) {
      const reg = await r.readRegion(0, x, y, w, h);
      expect(diffRgb(reg.data, patternRgb(x, y, w, h), w).first).toBeNull();
    }
    // Reduced levels equal libtiff's decode of the same page, byte for byte.
    const reg = await r.readRegion(2, 100, 50, 400, 300);
    expect(diffRgb(reg.data, await pageReference(file(name), 2, 100, 50, 400, 300), 400).maxAbs).toBe(0);
    await r.close();
  });

  it.each(['jpeg.tif', 'big.tif'])('%s: JPEG tiles within tolerance (max |err| ≤ 8, mean ≤ 1.5 at Q90) and right hues', async (name) => {
    const r = await openImage(file(name));
    if (name === 'big.tif') expect(r.meta.format).toBe('bigtiff');
    const [x, y, w, h] = [700, 300, 900, 800];
    const reg = await r.readRegion(0, x, y, w, h);
    const d = diffRgb(reg.data, patternRgb(x, y, w, h), w);
    expect(d.meanAbs).toBeLessThan(1.5);
    expect(d.maxAbs).toBeLessThanOrEqual(8);
    // Hue of saturated cells: the dominant channel at each cell centre matches the palette.
    for (let cy = 3; cy < 9; cy++) {
      for (let cx = 6; cx < 12; cx++) {
        const px = cx * PATTERN_CELL + 64;
        const py = cy * PATTERN_CELL + 64;
        const want = PATTERN_PALETTE[patternCellColour(px, py)];
        const i = ((py - y) * w + (px - x)) * 3;
        const got = [reg.data[i], reg.data[i + 1], reg.data[i + 2]];
        for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - want[c])).toBeLessThan(40);
      }
    }
    const low = await r.readRegion(1, 0, 0, 600, 500);
    expect(diffRgb(low.data, await pageReference(file(name), 1, 0, 0, 600, 500), 600).maxAbs).toBeLessThanOrEqual(2);
    await r.close();
  });

  it('pads past the edge with white and decodes each tile once under concurrency', async () => {
    const r = (await openImage(file('deflate.tif'))) as TiledTiffReader;
    const reg = await r.readRegion(0, W - 10, H - 10, 20, 20);
    const want = patternRgb(W - 10, H - 10, 10, 10);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 20; x++) {
        const i = (y * 20 + x) * 3;
        const exp = x < 10 && y < 10 ? Array.from(want.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3)) : [255, 255, 255];
        if (reg.data[i] !== exp[0] || reg.data[i + 1] !== exp[1] || reg.data[i + 2] !== exp[2])
          expect([x, y, ...reg.data.subarray(i, i + 3)]).toEqual([x, y, ...exp]);
      }
    }
    const before = r.cache.decodes;
    await Promise.all(Array.from({ length: 8 }, () => r.readRegion(0, 512, 512, 256, 256)));
    expect(r.cache.decodes - before).toBe(1);
    await expect(r.readRegion(9, 0, 0, 1, 1)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await r.close();
  });

  it('a 12,000 × 9,000 pyramid: the repeated pattern is right far from the origin, at every level', async () => {
    const r = await openImage(file('wide.tif'));
    expect(r.meta.levels.map((l) => l.width)).toEqual([12000, 6000, 3000, 1500, 750, 375, 187]);
    for (const [x, y] of [
      [11000, 8000],
      [4090, 2040],
      [6143, 6143],
    ]) {
      const reg = await r.readRegion(0, x, y, 400, 300);
      expect(diffRgb(reg.data, patternRgb(x, y, 400, 300), 400).meanAbs).toBeLessThan(1.5);
    }
    const low = await r.readRegion(6, 0, 0, 187, 140);
    expect(diffRgb(low.data, await pageReference(file('wide.tif'), 6, 0, 0, 187, 140), 187).maxAbs).toBeLessThanOrEqual(2);
    await r.close();
  });
});
