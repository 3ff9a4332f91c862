// Damaged, hostile and unusual TIFFs: the right error code with the file named, and no big allocation.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { diffRgb } from '../fixtures/compare.js';
import { patternRgb } from '../fixtures/pattern.js';
import { writePyramidalTiff } from '../fixtures/pyramidal-tiff.js';
import { type DirSpec, imageTags, setTag, writeTiff } from '../fixtures/tiff-writer.js';
import { Compression, Photometric, Tag } from '../tiff/tags.js';
import { openImage } from './registry.js';

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-tiffsafe-'));
  await writePyramidalTiff(file('good.tif'), { width: 1024, height: 768, compression: 'deflate' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One 256 × 256 tiled directory of raw tiles with `samples` channels; tags overridable. */
function rawDir(
  width: number,
  height: number,
  samples: number,
  photometric: number,
  fill: (x: number, y: number, c: number) => number,
): DirSpec {
  const blocks: Uint8Array[] = [];
  for (let ty = 0; ty < Math.ceil(height / 256); ty++) {
    for (let tx = 0; tx < Math.ceil(width / 256); tx++) {
      const t = new Uint8Array(256 * 256 * samples);
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++)
          for (let c = 0; c < samples; c++) t[(y * 256 + x) * samples + c] = fill(tx * 256 + x, ty * 256 + y, c);
      blocks.push(t);
    }
  }
  return { tags: imageTags({ width, height, tile: 256, samples, compression: Compression.None, photometric }), blocks };
}

async function failure(path: string): Promise<{ err: DinoscopeError; rssGrowth: number }> {
  const before = process.memoryUsage().rss;
  const err = await openImage(path).then(
    async (r) => {
      await r.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DinoscopeError);
  expect((err as DinoscopeError).message).toContain(path);
  return { err: err as DinoscopeError, rssGrowth: process.memoryUsage().rss - before };
}

describe('hostile and damaged TIFFs', () => {
  it('truncated file → CORRUPT', async () => {
    const bytes = readFileSync(file('good.tif'));
    writeFileSync(file('trunc.tif'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect((await failure(file('trunc.tif'))).err.code).toBe('CORRUPT');
  });

  it('corrupt header and directory → CORRUPT', async () => {
    const h = Buffer.alloc(64);
    h.write('II', 0, 'latin1');
    h.writeUInt16LE(42, 2);
    h.writeUInt32LE(0xfffffff0, 4); // first IFD far beyond the end
    writeFileSync(file('badoffset.tif'), h);
    expect((await failure(file('badoffset.tif'))).err.code).toBe('CORRUPT');
    h.writeUInt32LE(8, 4); // an IFD of zero entries
    writeFileSync(file('empty-ifd.tif'), h);
    expect((await failure(file('empty-ifd.tif'))).err.code).toBe('CORRUPT');
    const good = Buffer.from(readFileSync(file('good.tif')));
    writeFileSync(file('x.tif'), good.subarray(0, 6)); // header cut short
    expect((await failure(file('x.tif'))).err.code).toBe('CORRUPT');
  });

  it('absurd declared sizes → TOO_LARGE / CORRUPT without allocating', async () => {
    const huge = rawDir(256, 256, 3, Photometric.RGB, () => 0);
    huge.tags = setTag(setTag(huge.tags, { tag: Tag.ImageWidth, type: 4, values: [0xffffffff] }), {
      tag: Tag.ImageLength,
      type: 4,
      values: [0xffffffff],
    });
    writeTiff(file('huge.tif'), [huge]);
    const a = await failure(file('huge.tif'));
    expect(a.err.code).toBe('TOO_LARGE');
    expect(a.rssGrowth).toBeLessThan(64 * 2 ** 20);

    const bigTile = rawDir(256, 256, 3, Photometric.RGB, () => 0);
    bigTile.tags = setTag(setTag(bigTile.tags, { tag: Tag.TileWidth, type: 4, values: [100000] }), {
      tag: Tag.TileLength,
      type: 4,
      values: [100000],
    });
    writeTiff(file('bigtile.tif'), [bigTile]);
    const b = await failure(file('bigtile.tif'));
    expect(b.err.code).toBe('CORRUPT');
    expect(b.err.message).toContain('tile size');

    const farTiles = rawDir(512, 512, 3, Photometric.RGB, () => 0);
    farTiles.tags = setTag(farTiles.tags, { tag: Tag.TileOffsets, type: 4, values: [8, 8, 8, 4_000_000_000] });
    writeTiff(file('far.tif'), [farTiles]);
    const c = await failure(file('far.tif'));
    expect(c.err.code).toBe('CORRUPT');
    expect(c.err.message).toContain('beyond the end');
    expect(c.rssGrowth).toBeLessThan(64 * 2 ** 20);
  });

  it('unsupported variants → UNSUPPORTED with the reason', async () => {
    const cases: [string, (d: DirSpec) => void, string][] = [
      ['16bit.tif', (d) => (d.tags = setTag(d.tags, { tag: Tag.BitsPerSample, type: 3, values: [16, 16, 16] })), '16-bit samples'],
      ['planar.tif', (d) => (d.tags = setTag(d.tags, { tag: Tag.PlanarConfig, type: 3, values: [2] })), 'planar configuration 2'],
      ['jp2k.tif', (d) => (d.tags = setTag(d.tags, { tag: Tag.Compression, type: 3, values: [33003] })), 'JPEG 2000'],
    ];
    for (const [name, edit, reason] of cases) {
      const d = rawDir(256, 256, 3, Photometric.RGB, () => 0);
      edit(d);
      writeTiff(file(name), [d]);
      const { err } = await failure(file(name));
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.message).toContain(reason);
    }
  });

  it('a tile that does not decode → CORRUPT at read time, other tiles unaffected', async () => {
    const tiles = [0, 1].map((i) =>
      i === 0 ? Uint8Array.from([1, 2, 3, 4, 5]) : new Uint8Array(deflateSync(patternRgb(256, 0, 256, 256))),
    );
    const tags = imageTags({ width: 512, height: 256, tile: 256, compression: Compression.AdobeDeflate, photometric: Photometric.RGB });
    writeTiff(file('badtile.tif'), [{ tags, blocks: tiles }]);
    const r = await openImage(file('badtile.tif'));
    await expect(r.readRegion(0, 0, 0, 10, 10)).rejects.toMatchObject({ code: 'CORRUPT' });
    const ok = await r.readRegion(0, 256, 0, 256, 256);
    expect(diffRgb(ok.data, patternRgb(256, 0, 256, 256), 256).first).toBeNull();
    await r.close();
  });

  it('greyscale and RGBA tiles become RGB; min-is-white is inverted', async () => {
    writeTiff(file('grey.tif'), [rawDir(300, 300, 1, Photometric.MinIsBlack, (x, y) => (x + y) & 255)]);
    writeTiff(file('white.tif'), [rawDir(300, 300, 1, Photometric.MinIsWhite, (x) => x & 255)]);
    writeTiff(file('rgba.tif'), [rawDir(300, 300, 4, Photometric.RGB, (x, y, c) => (c === 3 ? 7 : (x * (c + 1) + y) & 255))]);
    const grey = await openImage(file('grey.tif'));
    expect(Array.from((await grey.readRegion(0, 290, 5, 1, 1)).data)).toEqual([39, 39, 39]);
    const white = await openImage(file('white.tif'));
    expect(Array.from((await white.readRegion(0, 10, 0, 1, 1)).data)).toEqual([245, 245, 245]);
    const rgba = await openImage(file('rgba.tif'));
    expect(Array.from((await rgba.readRegion(0, 260, 3, 1, 1)).data)).toEqual([263 & 255, (520 + 3) & 255, (780 + 3) & 255]);
    await Promise.all([grey.close(), white.close(), rgba.close()]);
  });

  it('plain strip TIFF is decoded by libvips, with mpp from its resolution', async () => {
    await sharp(patternRgb(0, 0, 500, 400), { raw: { width: 500, height: 400, channels: 3 } })
      .tiff({ compression: 'lzw', xres: 2000, yres: 2000, resolutionUnit: 'cm' })
      .toFile(file('strip.tif'));
    const r = await openImage(file('strip.tif'));
    expect(r.meta.format).toBe('tiff');
    expect(r.meta.mpp).toBeCloseTo(0.5, 6);
    const reg = await r.readRegion(0, 100, 100, 300, 200);
    expect(diffRgb(reg.data, patternRgb(100, 100, 300, 200), 300).first).toBeNull();
    await r.close();
  });
});
