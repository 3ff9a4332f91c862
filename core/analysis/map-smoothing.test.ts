// The maps' neighbour smoothing through the real AppService: on features whose patch-to-patch noise hides
// the texture regions, the cluster map follows the regions with the default smoothing and is patch-noisy
// with it off; each smoothing is its own fit; exports and region lists follow the maps last shown; a bad
// value is refused in plain words.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { analysisProject } from '../app/fixture-service.js';
import { DEFAULT_MAP_SMOOTHING } from '../common/map-smoothing.js';
import { adjustedRandIndex } from '../train/health/ari.js';
import { textureAt, writeMosaics, type MosaicSpec } from './fixture.js';

// 32 dimensions with noise 0.6 each: a noise vector of length ~3.4 beside each texture's unit direction
// (measured: ARI 0.42 with the smoothing off, 0.98 at the default).
const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 32, noise: 0.6 };
const GRID = SPEC.side / SPEC.stride;
let root: string;
let service: AppService;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-map-smoothing-'));
  ({ service, ids } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 3, SPEC), SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** ARI of the k = 4 cluster label images an export writes (`smoothing` absent: the request names none)
 * against the mosaics' textures, over every patch of the three images. */
async function exportedAri(smoothing?: number): Promise<number> {
  const r = await service.exportAnalysis({ format: 'png', what: 'clusters', k: 4, ...(smoothing === undefined ? {} : { smoothing }) });
  const truth: number[] = [];
  const found: number[] = [];
  for (const [i, id] of ids.entries()) {
    const file = r.paths.find((p) => p.endsWith('.clusters.png') && p.includes(`mosaic-${i}`));
    expect(file, id).toBeDefined();
    const { data, info } = await sharp(file!).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([GRID, GRID]);
    for (let gy = 0; gy < GRID; gy++)
      for (let gx = 0; gx < GRID; gx++) {
        truth.push(textureAt(i, gx, gy, GRID));
        found.push(data[(gy * GRID + gx) * info.channels]);
      }
  }
  return adjustedRandIndex(truth, found);
}

describe('map smoothing', () => {
  it('the cluster map follows the regions with the default smoothing, is patch-noisy without; exports follow the map shown', async () => {
    expect(DEFAULT_MAP_SMOOTHING).toBeGreaterThan(0);
    const off = await exportedAri(0);
    const byDefault = await exportedAri(DEFAULT_MAP_SMOOTHING);
    expect(off).toBeLessThan(0.6);
    expect(byDefault).toBeGreaterThan(0.9);
    // The overlay with smoothing off; an export that names none then follows it (what the user sees).
    await service.clusterOverlay(ids[0], 4, { smoothing: 0 });
    expect(await exportedAri()).toBe(off);
    await service.clusterOverlay(ids[0], 4);
    expect(await exportedAri()).toBe(off); // an overlay that names none keeps the client's last
    await service.clusterOverlay(ids[0], 4, { smoothing: DEFAULT_MAP_SMOOTHING });
    expect(await exportedAri()).toBe(byDefault);
  });

  it('region lists follow the smoothing of the cluster map shown', async () => {
    await service.clusterOverlay(ids[0], 4, { smoothing: 0 });
    const noisy = await service.clusterRegions(0);
    await service.clusterOverlay(ids[0], 4, { smoothing: 2 });
    const smooth = await service.clusterRegions(0);
    // Smoothed: one region a quadrant of each image; unsmoothed, the noise splits it into many small ones.
    expect(smooth.length).toBe(3);
    expect(noisy.length).toBeGreaterThan(smooth.length);
    expect(Math.max(...noisy.map((r) => r.patches))).toBeLessThan(Math.min(...smooth.map((r) => r.patches)));
  });

  it('the PCA map with smoothing is a fit of its own, and out-of-range smoothing is refused in plain words', async () => {
    const a = await service.pcaOverlay(ids[0], { smoothing: 0 });
    const b = await service.pcaOverlay(ids[0], { smoothing: 1 });
    expect(a.tileUrl).not.toBe(b.tileUrl);
    for (const bad of [-1, 9, Number.NaN])
      await expect(service.clusterOverlay(ids[0], 4, { smoothing: bad })).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: expect.stringMatching(/smoothing must be a number of patches from 0 \(off\) to 8/) as unknown,
      });
    await expect(service.exportAnalysis({ format: 'png', what: 'pca', smoothing: -2 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
