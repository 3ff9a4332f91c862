// A folder walk takes an OME-Zarr folder as ONE image (never its chunk files), beside ordinary files;
// naming the .zarr folder itself imports it too; an imported .zarr folder counts as present when the
// project checks its sources (it is a folder, not a file).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChannelFixtures } from '../data/fixtures/write-channel-fixtures.js';
import { expandPaths } from './walk.js';
import { Project } from './project.js';
import { importPaths } from './importer.js';
import { JobRegistry } from '../jobs/registry.js';
import { openImage } from '../data/readers/registry.js';
import { buildPyramidCache, needsPyramidCache } from '../data/pyramid-cache.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-walk-zarr-'));
  await writeChannelFixtures(join(dir, 'data'), { width: 256, height: 256, levels: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('walking folders with OME-Zarr images', () => {
  it('takes each .zarr folder whole, beside the OME-TIFF and the mask PNGs', async () => {
    const { files, missing } = await expandPaths([dir]);
    expect(missing).toEqual([]);
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'data/channels-v2.ome.zarr',
      'data/channels-v3.ome.zarr',
      'data/channels.ome.tif',
      'data/masks/fibres.png',
      'data/masks/nuclei.png',
      'data/masks/rings.png',
      'data/masks/spots.png',
      'data/masks/unique.png',
    ]);
  });

  it('a named .zarr folder is one image', async () => {
    const p = join(dir, 'data', 'channels-v3.ome.zarr');
    expect((await expandPaths([p])).files).toEqual([p]);
  });

  it('imports the .zarr folders as ok images that stay present', async () => {
    const project = await Project.create(join(dir, 'project'));
    const ctx = {
      project,
      formats: { openImage, needsPyramidCache, buildPyramidCache },
      jobs: new JobRegistry(),
      changed: () => undefined,
    };
    const { report } = await importPaths(ctx, [join(dir, 'data', 'channels-v2.ome.zarr'), join(dir, 'data', 'channels-v3.ome.zarr')]);
    expect(report.failed).toEqual([]);
    expect(report.added.map((a) => [a.name, a.status])).toEqual([
      ['channels-v2.ome.zarr', 'ok'],
      ['channels-v3.ome.zarr', 'ok'],
    ]);
    expect(await project.checkSources()).toBe(false);
    expect(project.images().map((i) => i.status)).toEqual(['ok', 'ok']);
  });
});
