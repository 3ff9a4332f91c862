// OME-TIFF map exports of a calibrated image: the source TIFF states 0.5 µm/pixel, so the exported PCA and
// cluster maps (one pixel per 4-pixel patch) carry PhysicalSizeX/Y = 2 µm in their OME-XML, our reader
// reports that mpp, and both pyramid levels read back with the cluster labels of the grid.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { openImage } from '../data/readers/registry.js';
import { writeMosaics, type MosaicSpec } from './fixture.js';
import { analysisProject } from '../app/fixture-service.js';

const MPP = 0.5;
// 300 × 300 patches: more than one 256-pixel tile, so the map pyramid has a second level.
const SPEC: MosaicSpec = { side: 1200, stride: 4, dim: 8 };
const GRID = SPEC.side / SPEC.stride;
let root: string;
let service: AppService;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-export-mpp-'));
  const pngs = await writeMosaics(join(root, 'png'), 2, SPEC);
  // The same mosaics as strip TIFFs with XResolution = 1 / 0.5 µm (sharp takes pixels per mm).
  const paths = await Promise.all(
    pngs.map(async (p, i) => {
      const t = join(root, `calibrated-${i}.tif`);
      await sharp(p)
        .tiff({ xres: 1000 / MPP, yres: 1000 / MPP, resolutionUnit: 'cm' })
        .toFile(t);
      return t;
    }),
  );
  ({ service, ids } = await analysisProject(root, paths, SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('OME-TIFF maps of a calibrated image', () => {
  it('carry PhysicalSizeX/Y = stride · mpp and read back at every pyramid level', async () => {
    expect(service.requireProject().requireImage(ids[0]).meta?.mpp).toBeCloseTo(MPP, 9);
    for (const what of ['pca', 'clusters'] as const) {
      const res = await service.exportAnalysis({ format: 'ome-tiff', what, imageIds: [ids[0]], k: 4 });
      // PCA: the map; clusters: the label image (0 = background, 1..k) and its colour preview PNG.
      expect(res.paths.map((p) => p.replace(/^.*\./, ''))).toEqual(what === 'pca' ? ['tif'] : ['tif', 'png']);
      const bytes = await readFile(res.paths[0]);
      const xml = /<OME [\s\S]*?<\/OME>/.exec(bytes.toString('latin1'))?.[0] ?? '';
      const attr = (name: string): string | undefined => new RegExp(`${name}="([^"]*)"`).exec(xml)?.[1];
      expect(Number(attr('PhysicalSizeX'))).toBeCloseTo(SPEC.stride * MPP, 9);
      expect(Number(attr('PhysicalSizeY'))).toBeCloseTo(SPEC.stride * MPP, 9);
      expect(Buffer.from(attr('PhysicalSizeXUnit') ?? '', 'latin1').toString('utf8')).toBe('µm');
      expect([attr('SizeX'), attr('SizeY')]).toEqual([String(GRID), String(GRID)]);
      const img = await openImage(res.paths[0]);
      try {
        expect(img.meta.format).toBe('ome-tiff');
        expect(img.meta.mpp).toBeCloseTo(SPEC.stride * MPP, 9);
        expect(img.meta.levels.map((l) => [l.width, l.height])).toEqual([
          [GRID, GRID],
          [GRID / 2, GRID / 2],
        ]);
        if (what !== 'clusters') continue;
        // Each texture quadrant is one cluster label: level 1 shows at (x, y) what level 0 shows at (2x, 2y).
        const l0 = await img.readRegion(0, 0, 0, GRID, GRID); // (GRID, GRID, 3)
        const l1 = await img.readRegion(1, 0, 0, GRID / 2, GRID / 2); // (GRID/2, GRID/2, 3)
        const px = (d: Uint8Array, w: number, x: number, y: number): string => d.subarray(3 * (y * w + x), 3 * (y * w + x) + 3).join(',');
        const q = GRID / 4; // level-1 quadrant side
        const corners = [
          [q / 2, q / 2],
          [q + q / 2, q / 2],
          [q / 2, q + q / 2],
          [q + q / 3, q + q / 2],
        ].map((c) => c.map(Math.floor)); // level-1 cells, one per quadrant
        expect(new Set(corners.map(([x, y]) => px(l0.data, GRID, 2 * x, 2 * y))).size).toBe(4); // four quadrants, four labels
        for (const [x, y] of corners) expect(px(l1.data, GRID / 2, x, y)).toBe(px(l0.data, GRID, 2 * x, 2 * y));
      } finally {
        await img.close();
      }
    }
  });
});
