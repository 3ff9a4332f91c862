// DICOM whole-slide series written by our fixture writer (fixtures/dicom.ts), read back through the
// registry: levels and associated images of a series opened from any of its files, µm per pixel, exact
// pixels for uncompressed frames (TILED_FULL, TILED_SPARSE with missing tiles, planar, implicit VR), and
// JPEG / JPEG 2000 frames within a PSNR bound, whatever offset table or fragmentation locates them.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { diffRgb } from '../fixtures/compare.js';
import { type DicomFixture, writeDicomInstance } from '../fixtures/dicom.js';
import { patternLevel } from '../fixtures/levels.js';
import { PATTERN_CELL, PATTERN_PALETTE, patternCellColour, patternRgb } from '../fixtures/pattern.js';
import type { RgbImage } from '../reader.js';
import sharp from 'sharp';
import { dziGeometry } from '../../tiles/dzi.js';
import { renderTileJpeg } from '../../tiles/render.js';
import { needsPyramidCache } from '../pyramid-cache.js';
import { DicomReader } from './dicom.js';
import { openImage } from './registry.js';

let dir: string;
const W = 1000;
const H = 700;
const level0 = (): RgbImage => ({ data: patternRgb(0, 0, W, H), width: W, height: H });
const solid = (w: number, h: number, rgb: [number, number, number]): RgbImage => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width: w, height: h };
};

/** Write a series folder: `name/level-N.dcm` … and the associated images. */
async function series(name: string, uid: string, base: Partial<DicomFixture>, extras = true): Promise<string> {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const half = await patternLevel(W, H, 500, 350);
  await writeDicomInstance(join(folder, 'level-0.dcm'), { seriesUid: uid, image: level0(), tile: 256, mppUm: 0.25, ...base }, 1);
  await writeDicomInstance(
    join(folder, 'level-1.dcm'),
    { seriesUid: uid, image: half, tile: 256, mppUm: 0.5, ...base, sparseSkip: undefined },
    2,
  );
  if (extras) {
    await writeDicomInstance(join(folder, 'label.dcm'), { seriesUid: uid, flavour: 'LABEL', image: solid(120, 80, [200, 30, 40]) }, 3);
    await writeDicomInstance(
      join(folder, 'overview.dcm'),
      { seriesUid: uid, flavour: 'OVERVIEW', image: solid(300, 100, [20, 40, 200]) },
      4,
    );
  }
  return folder;
}

function psnr(got: Uint8Array, want: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < got.length; i++) se += (got[i] - want[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / got.length));
}

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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-dicom-'));
  await series('raw', '1.2.3.1', {});
  await series('sparse', '1.2.3.2', { sparseSkip: (tx, ty) => (tx + ty) % 3 === 1 }, false);
  await series('planar', '1.2.3.3', { planar: true }, false);
  await series('implicit', '1.2.3.4', { implicit: true }, false);
  await series('implicit-sparse', '1.2.3.15', { implicit: true, sparseSkip: (tx, ty) => (tx + ty) % 3 === 1 }, false);
  await series('ybr', '1.2.3.16', { photometric: 'YBR_FULL' }, false);
  for (const table of ['basic', 'none', 'extended'] as const)
    await series(`jpeg-${table}`, `1.2.3.5.${table.length}`, { codec: 'jpeg', offsetTable: table }, false);
  await series('jpeg-fragments', '1.2.3.6', { codec: 'jpeg', offsetTable: 'none', twoFragments: true }, false);
  await series('jpeg-rgb', '1.2.3.13', { codec: 'jpeg', photometric: 'RGB' }, false);
  await series('jpeg-fragments-bot', '1.2.3.7', { codec: 'jpeg', offsetTable: 'basic', twoFragments: true }, false);
  await series('j2k-lossless', '1.2.3.8', { codec: 'jpeg2000-lossless' }, false);
  await series('j2k', '1.2.3.9', { codec: 'jpeg2000', offsetTable: 'none' }, false);
  // Two series in one folder: each file opens only its own.
  await series('mixed', '1.2.3.10', {}, false);
  await writeDicomInstance(join(dir, 'mixed', 'other.dcm'), { seriesUid: '1.2.3.11', image: solid(64, 64, [0, 0, 0]) });
  mkdirSync(join(dir, 'single'));
  await writeDicomInstance(join(dir, 'single', 'only.dcm'), {
    seriesUid: '1.2.3.14',
    image: { data: patternRgb(0, 0, 2500, 1800), width: 2500, height: 1800 },
    tile: 256,
  });
  await writeDicomInstance(join(dir, 'ct.dcm'), {
    seriesUid: '1.2.3.12',
    image: solid(16, 16, [0, 0, 0]),
    sopClass: '1.2.840.10008.5.1.4.1.1.2',
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DICOM whole-slide series', () => {
  it.each(['level-0.dcm', 'level-1.dcm', 'label.dcm'])('opens the whole series from %s: levels, mpp, associated images', async (file) => {
    const r = await openImage(join(dir, 'raw', file));
    expect(r.meta.format).toBe('dicom');
    expect(r.meta.levels.map((l) => [l.width, l.height, l.downsample])).toEqual([
      [1000, 700, 1],
      [500, 350, 2],
    ]);
    expect(r.meta.mpp).toBeCloseTo(0.25, 9);
    expect([r.meta.tileWidth, r.meta.tileHeight]).toEqual([256, 256]);
    expect(r.meta.vendor.associatedImages).toBe('label,overview');
    expect(r.meta.vendor['associated.overview']).toBe('300x100');
    expect(r.meta.vendor['dicom.Manufacturer']).toBe('Dinoscope fixtures');
    expect(r.meta.vendor['dicom.DimensionOrganizationType']).toBe('TILED_FULL');
    const label = await (r as DicomReader).readAssociated('label');
    expect([label.width, label.height, ...label.data.subarray(0, 3)]).toEqual([120, 80, 200, 30, 40]);
    await r.close();
  });

  it.each(['raw', 'planar', 'implicit', 'j2k-lossless'])('%s: tiles equal the source pixels exactly, at both levels', async (name) => {
    const r = await openImage(join(dir, name, 'level-0.dcm'));
    // Across tile borders and past the right and bottom edges (white there).
    const [x, y, w, h] = [100, 200, 950, 520];
    const reg = await r.readRegion(0, x, y, w, h);
    const want = new Uint8Array(w * h * 3).fill(255);
    const src = patternRgb(x, y, W - x, H - y);
    for (let row = 0; row < H - y; row++) want.set(src.subarray(row * (W - x) * 3, (row + 1) * (W - x) * 3), row * w * 3);
    expect(diffRgb(reg.data, want, w).maxAbs).toBe(0);
    const low = await r.readRegion(1, 0, 0, 500, 350);
    expect(diffRgb(low.data, (await patternLevel(W, H, 500, 350)).data, 500).maxAbs).toBe(0);
    await r.close();
  });

  it.each(['sparse', 'implicit-sparse'])('%s: TILED_SPARSE tiles without a frame read white, the others exact', async (name) => {
    const r = await openImage(join(dir, name, 'level-0.dcm'));
    expect(r.meta.vendor['dicom.DimensionOrganizationType']).toBe('TILED_SPARSE');
    const reg = await r.readRegion(0, 0, 0, W, H);
    const want = patternRgb(0, 0, W, H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if ((Math.floor(x / 256) + Math.floor(y / 256)) % 3 === 1) want.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
      }
    }
    const d = diffRgb(reg.data, want, W);
    expect(d.first).toBeNull();
    // Some tiles really are missing, and some present.
    expect(reg.data.subarray((0 * W + 300) * 3, (0 * W + 300) * 3 + 3)).toEqual(new Uint8Array([255, 255, 255]));
    expect(d.maxAbs).toBe(0);
    await r.close();
  });

  it('uncompressed YBR_FULL frames are turned back into RGB (within rounding)', async () => {
    const r = await openImage(join(dir, 'ybr', 'level-0.dcm'));
    const reg = await r.readRegion(0, 0, 0, W, H);
    const d = diffRgb(reg.data, patternRgb(0, 0, W, H), W);
    expect(d.maxAbs).toBeLessThanOrEqual(2);
    expectHues(reg.data, 0, 0, W, H);
    await r.close();
  });

  it.each(['jpeg-rgb', 'jpeg-basic', 'jpeg-none', 'jpeg-extended', 'jpeg-fragments', 'jpeg-fragments-bot', 'j2k'])(
    '%s: lossy frames within a PSNR bound and with the right hues',
    async (name) => {
      const r = await openImage(join(dir, name, 'level-0.dcm'));
      const reg = await r.readRegion(0, 0, 0, W, H);
      const want = patternRgb(0, 0, W, H);
      // JPEG Q90 with 4:2:0 chroma on a saturated test pattern; JPEG 2000 at 10:1.
      expect(psnr(reg.data, want)).toBeGreaterThan(name === 'j2k' ? 35 : 28);
      expectHues(reg.data, 0, 0, W, H);
      const low = await r.readRegion(1, 0, 0, 500, 350);
      expect(psnr(low.data, (await patternLevel(W, H, 500, 350)).data)).toBeGreaterThan(name === 'j2k' ? 33 : 26);
      await r.close();
    },
  );

  it('one level only: halvings are synthesized down to 1024 px, 2 × 2 averages of the level above', async () => {
    const r = await openImage(join(dir, 'single', 'only.dcm'));
    expect(r.meta.levels.map((l) => [l.width, l.height])).toEqual([
      [2500, 1800],
      [1250, 900],
      [625, 450],
    ]);
    expect(r.meta.vendor['dinoscope.synthesizedLevels']).toBe('2');
    expect(needsPyramidCache(r.meta)).toBe(false); // libvips could not build one from a DICOM file
    const src = patternRgb(0, 0, 2500, 1800);
    const got = await r.readRegion(1, 0, 0, 1250, 900);
    const want = new Uint8Array(1250 * 900 * 3);
    for (let y = 0; y < 900; y++)
      for (let x = 0; x < 1250; x++)
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number): number => src[(yy * 2500 + xx) * 3 + c];
          want[(y * 1250 + x) * 3 + c] =
            (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1) + 2) >> 2;
        }
    expect(diffRgb(got.data, want, 1250).maxAbs).toBe(0);
    await r.close();
  });

  it.each(['jpeg-basic', 'jpeg-rgb'])('%s: the tile server passes stored JPEG frames through, marked when RGB', async (name) => {
    const r = (await openImage(join(dir, name, 'level-0.dcm'))) as DicomReader;
    const stored = await r.jpegTile(0, 1, 1);
    expect(stored).toMatchObject({ tileWidth: 256, tileHeight: 256 });
    // The deep-zoom tile at full resolution is those bytes, not a re-encoding; they decode to the tile.
    const served = await renderTileJpeg(r, dziGeometry(W, H).maxLevel, 1, 1);
    expect(Buffer.compare(Buffer.from(served), Buffer.from(stored!.bytes))).toBe(0);
    const { data } = await sharp(served).raw().toBuffer({ resolveWithObject: true });
    expect(psnr(new Uint8Array(data), patternRgb(256, 256, 256, 256))).toBeGreaterThan(28);
    expect(await r.jpegTile(1, 0, 0)).not.toBeNull();
    expect(await r.jpegTile(0, 9, 9)).toBeNull();
    await r.close();
    const raw = (await openImage(join(dir, 'raw', 'level-0.dcm'))) as DicomReader;
    expect(await raw.jpegTile(0, 0, 0)).toBeNull();
    await raw.close();
  });

  it('a folder of two series: each file opens its own', async () => {
    const r = await openImage(join(dir, 'mixed', 'level-1.dcm'));
    expect(r.meta.levels.map((l) => l.width)).toEqual([1000, 500]);
    expect(r.meta.vendor['dicom.instances']).toBe('2');
    await r.close();
    const other = await openImage(join(dir, 'mixed', 'other.dcm'));
    expect(other.meta.levels.map((l) => l.width)).toEqual([64]);
    await other.close();
  });

  it('a DICOM file that is not whole-slide microscopy is refused in plain words', async () => {
    const err = await openImage(join(dir, 'ct.dcm')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DinoscopeError);
    expect((err as DinoscopeError).code).toBe('UNSUPPORTED');
    expect((err as DinoscopeError).message).toContain('not a whole-slide microscopy image');
  });
});
