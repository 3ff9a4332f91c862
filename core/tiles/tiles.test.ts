// The deep-zoom tile server against real files: every DZI level of a pyramidal JPEG TIFF equals (within
// JPEG tolerance) the reader's full-resolution region resized; full-resolution tiles of a PNG pass its
// pixels through exactly; edge tiles are cropped; the tissue-mask overlay finds the tissue.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageReader } from '../data/reader.js';
import { openImage } from '../data/readers/registry.js';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';
import { dziGeometry, levelDownsample, tileCount, tileRect } from './dzi.js';
import { encodeJpeg, renderTileRgb } from './render.js';
import { TileService } from './tile-service.js';

let root: string;
let tiffPath: string;
let pngPath: string;
let pngRgb: Buffer;
let tissuePath: string;

const W = 3000;
const H = 2000;

/** Mean absolute difference of two equally sized RGB buffers. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

async function decodeRgb(jpeg: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function serviceFor(files: Record<string, { path: string; width: number; height: number }>): TileService {
  return new TileService({
    locate: (id) =>
      files[id] ??
      (() => {
        throw new Error(`no ${id}`);
      })(),
    thumbnailPath: (id) => join(root, `${id}.thumb.jpg`),
    openImage: (p) => openImage(p),
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-tiles-'));
  tiffPath = join(root, 'pyramid.tif');
  await writePyramidalTiff(tiffPath, { width: W, height: H, tile: 256, compression: 'jpeg', quality: 95 });
  // A PNG with per-pixel detail (noise) so any resampling or offset would show.
  const w = 700;
  const h = 500;
  pngRgb = Buffer.alloc(w * h * 3);
  let seed = 12345;
  for (let i = 0; i < pngRgb.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    pngRgb[i] = seed >>> 24;
  }
  pngPath = join(root, 'noise.png');
  await sharp(pngRgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(pngPath);
  // A "slide": white glass with a pink tissue blob in the middle third.
  tissuePath = join(root, 'tissue.png');
  const tw = 1200;
  const th = 900;
  const slide = Buffer.alloc(tw * th * 3, 245);
  for (let y = 300; y < 600; y++)
    for (let x = 400; x < 800; x++) {
      const o = 3 * (y * tw + x);
      slide[o] = 200;
      slide[o + 1] = 90;
      slide[o + 2] = 150;
    }
  await sharp(slide, { raw: { width: tw, height: th, channels: 3 } })
    .png()
    .toFile(tissuePath);
  await sharp(slide, { raw: { width: tw, height: th, channels: 3 } })
    .resize(256)
    .jpeg()
    .toFile(join(root, 'tissue.thumb.jpg'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('DZI geometry', () => {
  it('numbers levels like OpenSeadragon and crops edge tiles', () => {
    const g = dziGeometry(W, H);
    expect(g.maxLevel).toBe(12);
    expect(tileCount(g, 12)).toEqual({ cols: 12, rows: 8 });
    expect(tileRect(g, 12, 11, 7)).toEqual({ x: 2816, y: 1792, width: 184, height: 208 });
    expect(tileRect(g, 11, 5, 3)).toEqual({ x: 1280, y: 768, width: 220, height: 232 });
    expect(tileRect(g, 0, 0, 0)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(tileRect(g, 12, 12, 0)).toBeNull();
    expect(tileRect(g, 13, 0, 0)).toBeNull();
  });
});

describe('tiles', () => {
  it('every DZI level of a pyramidal JPEG TIFF matches the full-resolution region resized', async () => {
    const tiles = serviceFor({ tif: { path: tiffPath, width: W, height: H } });
    const reader: ImageReader = await openImage(tiffPath);
    try {
      const g = dziGeometry(W, H);
      const diffs: string[] = [];
      for (let level = 0; level <= g.maxLevel; level++) {
        const { cols, rows } = tileCount(g, level);
        // The first tile and the bottom-right edge tile of each level.
        for (const [x, y] of [
          [0, 0],
          [cols - 1, rows - 1],
        ] as const) {
          const rect = tileRect(g, level, x, y)!;
          const d = levelDownsample(g, level);
          const served = await tiles.tile('tif', level, x, y);
          const rendered = await renderTileRgb(reader, level, x, y);
          expect([rendered.width, rendered.height]).toEqual([rect.width, rect.height]);
          // The served tile is the rendered pixels through the JPEG encoder, or (a whole stored tile of a
          // matching native level) the file's own JPEG, which decodes to exactly the rendered pixels.
          const passThrough = rect.width === 256 && rect.height === 256 && level >= g.maxLevel - 4;
          if (passThrough)
            expect(Buffer.from((await decodeRgb(served)).data).equals(Buffer.from(rendered.data)), `level ${level} pass-through`).toBe(
              true,
            );
          else expect(Buffer.from(served).equals(await encodeJpeg(rendered)), `level ${level} encoded`).toBe(true);
          // Reference: level-0 footprint read by the reader, downscaled by libvips in one lanczos3 pass.
          const fx = rect.x * d;
          const fy = rect.y * d;
          const fw = Math.min(W - fx, rect.width * d);
          const fh = Math.min(H - fy, rect.height * d);
          const full = await reader.readRegion(0, fx, fy, fw, fh); // (fh, fw, 3)
          const expected = await sharp(full.data, { raw: { width: fw, height: fh, channels: 3 } })
            .resize(rect.width, rect.height, { fit: 'fill', kernel: 'lanczos3' })
            .raw()
            .toBuffer();
          // Before encoding: native levels are libvips' 2 × 2 box pyramid, so a small resampling difference.
          const diff = meanAbsDiff(rendered.data, expected);
          expect(diff, `level ${level} tile ${x}_${y} pixels`).toBeLessThan(level === g.maxLevel ? 0.001 : 6);
          if (Math.min(rect.width, rect.height) < 64) diffs.push(`${level}:${diff.toFixed(1)}`);
          // After JPEG q85 (4:2:0 chroma), where a tile is big enough for chroma subsampling not to dominate:
          // at level 8 the pattern's 128-px saturated cells are 8 px, JPEG's worst case (measured ≈ 9.5).
          if (Math.min(rect.width, rect.height) >= 64) {
            const decoded = await decodeRgb(served);
            const jpegDiff = meanAbsDiff(decoded.data, expected);
            diffs.push(`${level}:${diff.toFixed(1)}/${jpegDiff.toFixed(1)}`);
            expect(jpegDiff, `level ${level} tile ${x}_${y} JPEG`).toBeLessThan(12);
          }
        }
      }
      console.log(`mean |Δ| per level (pixels/after JPEG): ${diffs.join(' ')}`);
    } finally {
      await reader.close();
      await tiles.close();
    }
  });

  it('passes whole stored JPEG tiles through byte for byte', async () => {
    const tiles = serviceFor({ tif: { path: tiffPath, width: W, height: H } });
    const reader = (await openImage(tiffPath)) as ImageReader & {
      jpegTile(l: number, x: number, y: number): Promise<{ bytes: Uint8Array } | null>;
    };
    try {
      // Full resolution (native level 0) and DZI level 11 (native level 1, downsample 2).
      for (const [dziLevel, native] of [
        [12, 0],
        [11, 1],
      ] as const) {
        const stored = await reader.jpegTile(native, 1, 2);
        expect(Buffer.from(await tiles.tile('tif', dziLevel, 1, 2)).equals(Buffer.from(stored!.bytes))).toBe(true);
        const pixels = await reader.readRegion(native, 256, 512, 256, 256);
        expect(Buffer.from((await decodeRgb(stored!.bytes)).data).equals(Buffer.from(pixels.data))).toBe(true);
      }
    } finally {
      await reader.close();
      await tiles.close();
    }
  });

  it('full-resolution tiles of a PNG are its exact pixels (before JPEG) and close after', async () => {
    const reader = await openImage(pngPath);
    const tiles = serviceFor({ png: { path: pngPath, width: 700, height: 500 } });
    try {
      const g = dziGeometry(700, 500);
      for (const [x, y] of [
        [0, 0],
        [1, 1],
        [2, 1],
      ] as const) {
        const rect = tileRect(g, g.maxLevel, x, y)!;
        const rgb = await renderTileRgb(reader, g.maxLevel, x, y);
        const expected = Buffer.alloc(rect.width * rect.height * 3);
        for (let j = 0; j < rect.height; j++)
          pngRgb.copy(expected, j * rect.width * 3, 3 * ((rect.y + j) * 700 + rect.x), 3 * ((rect.y + j) * 700 + rect.x + rect.width));
        expect(Buffer.from(rgb.data).equals(expected), `tile ${x}_${y}`).toBe(true);
        // Served: exactly those pixels through the JPEG encoder.
        const served = await tiles.tile('png', g.maxLevel, x, y);
        expect(Buffer.from(served).equals(await encodeJpeg({ data: expected, width: rect.width, height: rect.height }))).toBe(true);
      }
    } finally {
      await reader.close();
      await tiles.close();
    }
  });

  it('caches encoded tiles and refuses tiles outside the grid', async () => {
    const tiles = serviceFor({ png: { path: pngPath, width: 700, height: 500 } });
    const a = await tiles.tile('png', 10, 0, 0);
    const [b, c] = await Promise.all([tiles.tile('png', 10, 0, 0), tiles.tile('png', 10, 0, 0)]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    await expect(tiles.tile('png', 11, 0, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(tiles.tile('png', 10, 3, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await tiles.close();
  });

  it('the tissue mask overlay covers the tissue and leaves the glass clear', async () => {
    const tiles = serviceFor({ tissue: { path: tissuePath, width: 1200, height: 900 } });
    expect((await tiles.overlays.forImage('tissue')).map((o) => o.id)).toEqual(['tissue-mask']);
    const g = dziGeometry(1200, 900);
    // Level maxLevel-3 (downsample 8): the whole slide is one 150 × 113 tile.
    const png = await tiles.overlayTile('tissue', 'tissue-mask', g.maxLevel - 3, 0, 0);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([150, 113, 4]);
    const alpha = (x: number, y: number): number => data[4 * (y * info.width + x) + 3];
    expect(alpha(75, 56)).toBe(255); // centre of the blob (600, 450 at full resolution)
    expect(alpha(5, 5)).toBe(0); // glass
    expect(alpha(145, 108)).toBe(0);
    let covered = 0;
    for (let i = 3; i < data.length; i += 4) covered += data[i] ? 1 : 0;
    // The blob is 400 × 300 of 1200 × 900, i.e. 1/9 of the slide; the mask comes from a 256-px thumbnail.
    expect(covered / (info.width * info.height)).toBeCloseTo(1 / 9, 1);
    await tiles.close();
  });
});
