// Extraction by µm per pixel over a mixed collection: a pyramidal TIFF stating 0.25 µm/px and a PNG that
// states none. The TIFF is read at 0.5 µm/px (downsample 2, its level 1); the PNG falls back to level 0
// (core/data/resolution.ts) instead of failing the whole run, and the estimate, the API summary and the
// CLI (JSON on stdout, the warning on stderr) all say so for that image.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtractSummary } from '../../common/api.js';
import type { AppService } from '../../app/service.js';
import { importedProject } from '../../app/fixture-service.js';
import { runCli } from '../../cli/main.js';
import { writePyramidalTiff } from '../../data/fixtures/pyramidal-tiff.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { texture } from './fixture.js';

let root: string;
let service: AppService;
let tiff: string;
let png: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-mpp-fallback-'));
  tiff = join(root, 'scan.tif');
  png = join(root, 'export.png');
  await writePyramidalTiff(tiff, { width: 896, height: 896, tile: 256, compression: 'jpeg', pixelsPerMm: 4000 }); // 0.25 µm/px
  await sharp(texture(448, 448), { raw: { width: 448, height: 448, channels: 3 } })
    .png()
    .toFile(png);
  ({ service } = await importedProject(root, [tiff, png]));
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(root, 'project')), 'tiny'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('an image without µm per pixel in an extraction by µm per pixel', () => {
  it('is extracted at level 0 beside images that state theirs, and the estimate, summary and CLI say so', async () => {
    const estimate = await service.extractEstimate({ modelId: 'tiny', mpp: 0.5, device: 'cpu' });
    expect(estimate.refused).toEqual([]);
    // 896 px at downsample 2 and 448 px at level 0: 32 × 32 patches of 14 each.
    expect(estimate.grids.map((g) => [g.name, g.gridWidth, g.gridHeight, g.fallbackLevel])).toEqual([
      ['scan.tif', 32, 32, undefined],
      ['export.png', 32, 32, 0],
    ]);

    const s = await service.extractFeatures({ modelId: 'tiny', mpp: 0.5, device: 'cpu', context: 'whole' });
    expect(s.featureSet).toBe('tiny-0p5um');
    const byName = new Map(s.images.map((i) => [i.name, i]));
    expect(byName.get('scan.tif')).toMatchObject({ gridWidth: 32, gridHeight: 32 });
    expect(byName.get('scan.tif')!.fallbackLevel).toBeUndefined();
    expect(byName.get('export.png')).toMatchObject({ gridWidth: 32, gridHeight: 32, fallbackLevel: 0 });
    expect(s.warnings.filter((w) => w.includes('no resolution'))).toEqual([
      `${png}: the file states no resolution (mpp); extracted at level 0 (its own pixels) instead of 0.5 µm/px.`,
    ]);

    // The CLI prints the same summary (a rerun resumes: nothing left to compute) and the warning on stderr.
    let out = '';
    let err = '';
    const code = await runCli(['extract', '--project', join(root, 'project'), '--model', 'tiny', '--mpp', '0.5', '--device', 'cpu'], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    const cli = JSON.parse(out) as ExtractSummary;
    expect(cli.images.map((i) => [i.name, i.fallbackLevel, i.computed])).toEqual([
      ['scan.tif', undefined, 0],
      ['export.png', 0, 0],
    ]);
    expect(err).toContain(`${png}: the file states no resolution (mpp); extracted at level 0`);
  }, 120_000);
});
