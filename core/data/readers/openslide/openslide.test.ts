// The OpenSlide reader on files the tests write: a generic tiled TIFF and an Aperio-SVS-like TIFF read
// through OpenSlide give the same pixels as our own readers (both lossless and JPEG: the same tiles
// decoded), with mpp, properties and associated images; a Philips TIFF is routed to OpenSlide and reads
// the pattern exactly; without the library, vendor files are refused with the install line while our own
// formats still open; reads go through the reader pool's worker threads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReaderPool } from '../../../reader-pool/pool.js';
import { diffRgb } from '../../fixtures/compare.js';
import { patternLevel } from '../../fixtures/levels.js';
import { patternRgb } from '../../fixtures/pattern.js';
import { writePyramidalTiff } from '../../fixtures/pyramidal-tiff.js';
import { writeSvsLike } from '../../fixtures/svs.js';
import { imageTags, writeTiff } from '../../fixtures/tiff-writer.js';
import { PHILIPS_DOWNSAMPLES, PHILIPS_LABEL_RGB, writeNdpiMarked, writePhilipsTiff } from '../../fixtures/vendor-tiff.js';
import type { ImageReader } from '../../reader.js';
import { Compression, Photometric } from '../../tiff/tags.js';
import { MAX_VENDOR_ENTRIES, MAX_VENDOR_VALUE } from '../../vendor.js';
import { openImage } from '../registry.js';
import { openWithOpenSlide } from './format.js';
import { libraryCandidates, loadOpenSlide } from './library.js';
import type { OpenSlideReader } from './reader.js';

let dir: string;
const path = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-openslide-'));
  await writePyramidalTiff(path('generic.tif'), { width: 2048, height: 1536, compression: 'deflate', pixelsPerMm: 4000 });
  await writeSvsLike(path('slide.svs'), { width: 2000, height: 1500, mpp: 0.252, appMag: 40, photometric: 'rgb' });
  await writePhilipsTiff(path('philips.tiff'), { width: 1024, height: 768, mppUm: 0.25 });
  writeNdpiMarked(path('marked.ndpi'));
  writeFileSync(path('slide.vms'), '[Virtual Microscope Specimen]\r\nNoLayers=1\r\nImageFile=slide.jpg\r\n');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
afterEach(() => {
  for (const key of ['DINOSCOPE_OPENSLIDE_LIBRARY', 'DINOSCOPE_PREFER_OPENSLIDE']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

/** Regions at level 0 and 1, inside, across the right/bottom edges and past the top-left corner. */
const REGIONS = [
  [0, 0, 0, 256, 256],
  [0, 100, 50, 700, 600],
  [0, 1800, 1300, 400, 400],
  [0, -20, -10, 120, 90],
  [1, 0, 0, 300, 200],
  [1, 390, 280, 200, 200],
] as const;

async function expectSamePixels(a: ImageReader, b: ImageReader): Promise<void> {
  for (const [level, x, y, w, h] of REGIONS) {
    const got = await a.readRegion(level, x, y, w, h);
    const want = await b.readRegion(level, x, y, w, h);
    const d = diffRgb(got.data, want.data, w);
    expect({ level, x, y, w, h, maxAbs: d.maxAbs, first: d.first }).toEqual({ level, x, y, w, h, maxAbs: 0, first: null });
  }
}

describe('OpenSlide reader', () => {
  it('finds the system library', async () => {
    const lib = await loadOpenSlide();
    expect(lib.api?.version).toMatch(/^\d+\.\d+/);
  });

  it('generic tiled TIFF: same levels, mpp and pixels as our reader', async () => {
    const ours = await openImage(path('generic.tif'));
    const os = await openWithOpenSlide(path('generic.tif'), 'TIFF');
    expect(os.meta.format).toBe('openslide-generic-tiff');
    expect(os.meta.levels).toEqual(ours.meta.levels);
    expect(os.meta.mpp).toBeCloseTo(0.25, 9);
    expect([os.meta.tileWidth, os.meta.tileHeight]).toEqual([256, 256]);
    expect(os.meta.vendor['openslide.vendor']).toBe('generic-tiff');
    await expectSamePixels(os, ours);
    await Promise.all([os.close(), ours.close()]);
  });

  it('Aperio SVS: same pixels as our reader; mpp, Aperio fields and associated images', async () => {
    const ours = await openImage(path('slide.svs'));
    const os = (await openWithOpenSlide(path('slide.svs'), 'TIFF')) as OpenSlideReader;
    expect(os.meta.format).toBe('openslide-aperio');
    expect(os.meta.mpp).toBeCloseTo(0.252, 9);
    expect(os.meta.levels.slice(0, 2)).toEqual(ours.meta.levels.slice(0, 2));
    expect(os.meta.vendor['aperio.AppMag']).toBe('40');
    expect(os.meta.vendor['aperio.ScanScope ID']).toBe('SS1302');
    expect(os.meta.vendor['openslide.objective-power']).toBe('40');
    expect(os.meta.vendor.associatedImages?.split(',').sort()).toEqual(['label', 'macro', 'thumbnail']);
    expect(os.meta.vendor['associated.macro']).toBe('300x100');
    await expectSamePixels(os, ours);
    const label = await os.readAssociated('label');
    expect([label.width, label.height]).toEqual([120, 100]);
    expect(label.data.every((v) => v === 250)).toBe(true);
    await expect(os.readAssociated('barcode')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await Promise.all([os.close(), ours.close()]);
    await expect(os.readRegion(0, 0, 0, 10, 10)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('DINOSCOPE_PREFER_OPENSLIDE=1 sends files our readers handle to OpenSlide', async () => {
    process.env.DINOSCOPE_PREFER_OPENSLIDE = '1';
    const r = await openImage(path('slide.svs'));
    expect(r.meta.format).toBe('openslide-aperio');
    await r.close();
    delete process.env.DINOSCOPE_PREFER_OPENSLIDE;
    const ours = await openImage(path('slide.svs'));
    expect(ours.meta.format).toBe('svs');
    await ours.close();
  });

  it('Philips TIFF is routed to OpenSlide: levels, mpp, label and macro, exact pattern pixels', async () => {
    const r = (await openImage(path('philips.tiff'))) as OpenSlideReader;
    expect(r.meta.format).toBe('openslide-philips');
    expect(r.meta.levels.map((l) => l.downsample)).toEqual([...PHILIPS_DOWNSAMPLES]);
    expect(r.meta.mpp).toBeCloseTo(0.25, 9);
    expect(r.meta.vendor['philips.DICOM_MANUFACTURER']).toBe('PHILIPS');
    expect(r.meta.vendor.associatedImages?.split(',').sort()).toEqual(['label', 'macro']);
    const label = await r.readAssociated('label');
    expect(Array.from(label.data.subarray(0, 3))).toEqual([...PHILIPS_LABEL_RGB]);
    for (const level of [0, 1, 2]) {
      const { width, height } = r.meta.levels[level];
      const got = await r.readRegion(level, 0, 0, width, height);
      const want = await patternLevel(1024, 768, width, height);
      expect(diffRgb(got.data, want.data, width).maxAbs).toBe(0);
    }
    await r.close();
  });

  it('areas OpenSlide paints transparent (a tile the slide leaves out) read white', async () => {
    await writePhilipsTiff(path('sparse.tiff'), { width: 1024, height: 768, mppUm: 0.25, missingTile: true });
    const r = await openImage(path('sparse.tiff'));
    expect(r.meta.format).toBe('openslide-philips');
    const got = await r.readRegion(0, 200, 0, 400, 300); // tiles 0 to 2 of the first two rows
    const want = patternRgb(200, 0, 400, 300);
    for (let y = 0; y < 300; y++) {
      for (let x = 0; x < 400; x++) {
        const inMissing = y < 256 && x + 200 >= 256 && x + 200 < 512;
        if (inMissing) want.fill(255, (y * 400 + x) * 3, (y * 400 + x) * 3 + 3);
      }
    }
    expect(diffRgb(got.data, want, 400).maxAbs).toBe(0);
    await r.close();
  });

  it('a file OpenSlide refuses is CORRUPT with its reason', async () => {
    await expect(openImage(path('marked.ndpi'))).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/marked\.ndpi: OpenSlide cannot read this Hamamatsu NDPI file \(.+\)/),
    });
  });

  it('keeps vendor properties bounded on a 22 MB Aperio description', async () => {
    // 100,000 fields, one of them 100,000 characters long: OpenSlide lists them all as properties.
    const fields = Array.from({ length: 100_000 }, (_, i) => `|Field${i} = ${i === 7 ? 'v'.repeat(100_000) : 'x'.repeat(200)}`).join('');
    const description = `Aperio Image Library v12\r\n512x512 (256x256) JPEG/RGB Q=70|AppMag = 20|MPP = 0.5${fields}`;
    const tile = new Uint8Array(deflateSync(new Uint8Array(256 * 256 * 3).fill(255)));
    writeTiff(path('huge-description.svs'), [
      {
        tags: imageTags({
          width: 512,
          height: 512,
          tile: 256,
          compression: Compression.AdobeDeflate,
          photometric: Photometric.RGB,
          description,
        }),
        blocks: [tile, tile, tile, tile],
      },
    ]);
    const r = await openWithOpenSlide(path('huge-description.svs'), 'TIFF');
    const entries = Object.entries(r.meta.vendor);
    expect(entries.length).toBeLessThanOrEqual(MAX_VENDOR_ENTRIES);
    expect(Math.max(...entries.map(([, v]) => v.length))).toBeLessThanOrEqual(MAX_VENDOR_VALUE);
    expect(r.meta.vendor['openslide.comment']).toMatch(/^Aperio Image Library v12/);
    expect(r.meta.vendor['openslide.comment'].length).toBe(MAX_VENDOR_VALUE);
    expect(r.meta.mpp).toBe(0.5);
    await r.close();
  }, 120_000);
});

describe('without the library', () => {
  it('looks where each platform installs it', () => {
    expect(libraryCandidates('linux', {})).toEqual(['libopenslide.so.1', 'libopenslide.so.0']);
    expect(libraryCandidates('darwin', {})).toEqual(
      expect.arrayContaining(['/opt/homebrew/lib/libopenslide.1.dylib', '/usr/local/lib/libopenslide.1.dylib', 'libopenslide.1.dylib']),
    );
    expect(libraryCandidates('win32', {})).toEqual(['libopenslide-1.dll', 'libopenslide-0.dll']);
    expect(libraryCandidates('linux', { DINOSCOPE_OPENSLIDE_LIBRARY: '/opt/x/libopenslide.so.1' })).toEqual(['/opt/x/libopenslide.so.1']);
  });

  it('vendor files are UNSUPPORTED with the install line; our own formats still open', async () => {
    process.env.DINOSCOPE_OPENSLIDE_LIBRARY = join(dir, 'no-such-libopenslide.so.0');
    for (const [name, what] of [
      ['philips.tiff', 'Philips TIFF'],
      ['marked.ndpi', 'Hamamatsu NDPI'],
      ['slide.vms', 'Hamamatsu VMS'],
    ]) {
      const err = await openImage(path(name)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNSUPPORTED' });
      const message = (err as Error).message;
      expect(message).toContain(`${path(name)}: needs OpenSlide: this ${what} file`);
      expect(message).toContain('sudo apt install libopenslide0');
      expect(message).toContain('no-such-libopenslide.so.0');
    }
    process.env.DINOSCOPE_PREFER_OPENSLIDE = '1'; // preferred but absent: our readers as before
    for (const [name, format] of [
      ['slide.svs', 'svs'],
      ['generic.tif', 'tiled-tiff'],
    ]) {
      const r = await openImage(path(name));
      expect(r.meta.format).toBe(format);
      await r.close();
    }
  });
});

describe('through the reader pool', () => {
  it('opens and reads in a worker thread, with the same pixels', async () => {
    const pool = new ReaderPool({ size: 1 });
    try {
      const remote = await pool.openImage(path('philips.tiff'));
      expect(remote.meta.format).toBe('openslide-philips');
      const local = await openImage(path('philips.tiff'));
      const a = await remote.readRegion(0, 200, 100, 512, 512);
      const b = await local.readRegion(0, 200, 100, 512, 512);
      expect(diffRgb(a.data, b.data, 512).maxAbs).toBe(0);
      await Promise.all([remote.close(), local.close()]);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
