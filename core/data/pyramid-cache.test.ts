// The pyramid cache for a large non-pyramidal JPEG: built once with progress, reused, readable as tiles.
import { mkdtempSync, rmSync, statSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRgb } from './fixtures/compare.js';
import { patternRgb } from './fixtures/pattern.js';
import { patternImage } from './fixtures/pyramidal-tiff.js';
import { buildPyramidCache, needsPyramidCache, pyramidCachePath } from './pyramid-cache.js';
import { openImage } from './readers/registry.js';

let dir: string;
const W = 6000;
const H = 4500;
const src = (): string => join(dir, 'big.jpg');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-pcache-'));
  await patternImage(W, H).jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toFile(src());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pyramid cache', () => {
  it('is needed for a large one-level image and not for a small one', async () => {
    const r = await openImage(src());
    expect(r.meta.format).toBe('jpeg');
    expect(r.meta.levels).toHaveLength(1);
    expect(needsPyramidCache(r.meta)).toBe(true);
    // Without the cache, level 0 is still readable (libvips extract on the file).
    const reg = await r.readRegion(0, 5000, 4000, 64, 64);
    expect(diffRgb(reg.data, patternRgb(5000, 4000, 64, 64), 64).meanAbs).toBeLessThan(1.5);
    expect(needsPyramidCache({ ...r.meta, width: 4000, height: 3000 })).toBe(false);
    await r.close();
  });

  it('builds once with progress, atomically, then reuses the file', async () => {
    const cache = join(dir, 'cache');
    const progress: [number, number][] = [];
    const path = await buildPyramidCache(src(), cache, { onProgress: (d, t) => progress.push([d, t]) });
    expect(path).toBe(await pyramidCachePath(src(), cache));
    expect(readdirSync(cache)).toEqual([path.split('/').pop()]); // no temp file left behind
    const total = statSync(src()).size;
    expect(progress[0]).toEqual([0, total]);
    expect(progress[progress.length - 1]).toEqual([total, total]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);

    const r = await openImage(path);
    expect(r.meta.format).toBe('tiled-tiff');
    expect([r.meta.width, r.meta.height]).toEqual([W, H]);
    expect(r.meta.levels.length).toBeGreaterThan(4);
    const reg = await r.readRegion(0, 2000, 1500, 512, 512);
    // Two JPEG generations (source Q92, cache Q90): mean |error| < 2.
    expect(diffRgb(reg.data, patternRgb(2000, 1500, 512, 512), 512).meanAbs).toBeLessThan(2);
    await r.close();

    const mtime = statSync(path).mtimeMs;
    const again = await buildPyramidCache(src(), cache);
    expect(again).toBe(path);
    expect(statSync(path).mtimeMs).toBe(mtime);

    // A changed source (new mtime) gets a new cache key.
    utimesSync(src(), new Date(), new Date(Date.now() + 5000));
    expect(await pyramidCachePath(src(), cache)).not.toBe(path);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(buildPyramidCache(src(), join(dir, 'cache2'), { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
