// A pixel size stated for images whose files state none reaches the analysis exports at once: PNG mosaics
// (no resolution) export their OME-TIFF PCA map without a physical size; after setImageMpp states 0.5 µm/px,
// the next export of the same open analysis carries PhysicalSizeX/Y = stride · 0.5 (the loaded collection is
// reopened for it, not served with the size it was loaded with).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { analysisProject } from '../app/fixture-service.js';
import { writeMosaics, type MosaicSpec } from './fixture.js';

const SPEC: MosaicSpec = { side: 400, stride: 4, dim: 8 };
let root: string;
let service: AppService;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-export-stated-mpp-'));
  const pngs = await writeMosaics(join(root, 'png'), 2, SPEC);
  ({ service, ids } = await analysisProject(root, pngs, SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const physicalSize = async (path: string): Promise<string | undefined> => {
  const xml = /<OME [\s\S]*?<\/OME>/.exec((await readFile(path)).toString('latin1'))?.[0] ?? '';
  return /PhysicalSizeX="([^"]*)"/.exec(xml)?.[1];
};

describe('a stated pixel size in the analysis exports', () => {
  it('is written into the maps exported after it was stated', async () => {
    const before = await service.exportAnalysis({ format: 'ome-tiff', what: 'pca', imageIds: [ids[0]] });
    expect(await physicalSize(before.paths[0])).toBeUndefined();
    await service.setImageMpp({ mpp: 0.5 });
    const after = await service.exportAnalysis({ format: 'ome-tiff', what: 'pca', imageIds: [ids[0]] });
    expect(Number(await physicalSize(after.paths[0]))).toBeCloseTo(SPEC.stride * 0.5, 9);
  }, 60_000);
});
