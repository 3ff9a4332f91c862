// Extraction through the AppService (the API method and its job): a real project with a half-tissue,
// half-glass PNG and a tiny model in the project's models folder. Background tiles are skipped, a
// cancelled run resumes with only its pending tiles, the index holds every tissue patch once, and
// project.json records the feature set. Also the attention / token-norm overlays for a region.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../app/dispatch.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { runCli } from '../../cli/main.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { ExactIndex } from '../index/exact.js';
import { openFeatureStore } from '../store/reader.js';
import { extractFeatures } from './project.js';

const W = 14 * 16 * 4; // 64 × 32 patches of 14 px: 4 × 2 tiles of 16 × 16
const H = 14 * 16 * 2;
let dir: string;
let service: AppService;
let imageId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-extract-project-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  // Left half: stained-looking texture; right half: white glass.
  const rgb = new Uint8Array(W * H * 3).fill(255);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W / 2; x++) {
      const o = 3 * (y * W + x);
      rgb[o] = 150 + Math.round(50 * Math.sin(x / 7));
      rgb[o + 1] = 60 + Math.round(40 * Math.cos(y / 5));
      rgb[o + 2] = 160;
    }
  const png = join(dir, 'half.png');
  await writeFile(
    png,
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer(),
  );
  service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(join(dir, 'proj'));
  const report = await service.importPaths([png]);
  await service.idle();
  imageId = report.added[0].id;
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(dir, 'proj')), 'tiny'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

describe('extractFeatures (API)', () => {
  it('skips background, resumes after a cancel computing only pending tiles, indexes tissue patches once', async () => {
    // Cancel once the first computed tile is stored. The job events the API emits are throttled (one per
    // 100 ms), and on a quiet machine this tiny extraction finishes within one interval, so cancelling from
    // those events was a race; the core's own progress hook reports every tile. The API's cancelJob →
    // CANCELLED path is covered in core/jobs/registry.test.ts. Tiled context throughout: skipping background
    // and resuming tile by tile are what tiles do (under 'auto' this 64 × 32 grid fits one pass, which
    // covers the background too; context-project.test.ts).
    const controller = new AbortController();
    const run = extractFeatures(
      service.requireProject(),
      service.models,
      { modelId: 'tiny', level: 0, batch: 1, context: 'tiled' },
      {
        signal: controller.signal,
        progress: (done) => {
          if (done >= 5) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });

    const s = await service.extractFeatures({ modelId: 'tiny', level: 0, batch: 1, context: 'tiled' });
    const im = s.images[0];
    expect(s.context).toBe('tiled');
    expect(im.gridWidth).toBe(64);
    expect(im.gridHeight).toBe(32);
    // 8 tiles: the glass half (minus the column the dilated mask reaches) is background; the rerun only
    // computes what the cancelled run left.
    expect(im.resumed).toBeGreaterThan(0);
    expect(im.resumed + im.computed + im.background).toBe(8);
    expect(im.patches).toBe(im.computed * 256);

    const store = await openFeatureStore(join(s.dir, `${imageId}.zarr`));
    const mask = (await store.mask())!;
    const tissue = mask.reduce((a, v) => a + v, 0);
    expect(tissue).toBeGreaterThan(64 * 32 * 0.4);
    expect(tissue).toBeLessThan(64 * 32 * 0.6);
    const grid = await store.readRect(0, 0, 64, 32); // (32, 64, D)
    // A tissue patch has features; a far-right glass patch is a skipped chunk (zeros).
    expect(Math.abs(grid[(5 * 64 + 5) * 64])).toBeGreaterThan(0);
    expect(grid.subarray((5 * 64 + 63) * 64, (5 * 64 + 64) * 64).every((v) => v === 0)).toBe(true);

    const index = await ExactIndex.open(join(s.dir, 'index'));
    expect(index.size).toBe(tissue);
    expect(im.indexedRows).toBe(tissue);

    const pj = JSON.parse(await readFile(join(dir, 'proj', 'project.json'), 'utf8')) as {
      features: { id: string; context: string; images: { imageId: string; complete: boolean; indexedRows: number; context: string }[] }[];
    };
    expect(pj.features).toHaveLength(1);
    expect(pj.features[0].images[0]).toMatchObject({ imageId, complete: true, indexedRows: tissue, context: 'tiled' });
    expect(pj.features[0].context).toBe('tiled');

    // A third run has nothing left to do and adds nothing to the index.
    const again = await service.extractFeatures({ modelId: 'tiny', level: 0, batch: 2, context: 'tiled' });
    expect(again.images[0].computed).toBe(0);
    expect((await ExactIndex.open(join(s.dir, 'index'))).size).toBe(tissue);
  }, 120_000);

  it('bad input is one sentence', async () => {
    await expect(service.extractFeatures({ modelId: 'tiny', mpp: 0.5 })).rejects.toThrow(/states no resolution/);
    await expect(service.extractFeatures({ modelId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.extractFeatures({ modelId: 'tiny', level: 3 })).rejects.toThrow(/level: 3 does not exist/);
  });

  it('a core error names the field in the app, and the flag when the CLI prints it', async () => {
    // The app: the call through the one dispatch both hosts use; the message names the option.
    const viaApp = async (options: object): Promise<string> =>
      dispatch(service, 'extractFeatures', [options]).then(
        () => '',
        (e: Error) => e.message,
      );
    const level = await viaApp({ modelId: 'tiny', level: 3 });
    expect(level).toMatch(/half\.png: level: 3 does not exist \(the image has levels 0–2\)\.$/);
    const mpp = await viaApp({ modelId: 'tiny', mpp: 0.5 });
    expect(mpp).toMatch(/half\.png: mpp: the file states no resolution, so 0\.5 µm per pixel cannot be honoured; use level instead\.$/);
    expect(await viaApp({ modelId: 'tiny', batch: 300 })).toBe('batch: must be an integer from 1 to 256, got 300.');
    for (const m of [level, mpp]) expect(m).not.toContain('--');
    // The CLI: the same core errors, worded with its flags.
    const viaCli = async (...argv: string[]): Promise<{ code: number; err: string }> => {
      let err = '';
      const code = await runCli(['extract', '--project', join(dir, 'proj'), '--model', 'tiny', '--device', 'cpu', ...argv], {
        stdout: () => undefined,
        stderr: (t) => void (err += t),
        signal: new AbortController().signal,
      });
      return { code, err };
    };
    const cliLevel = await viaCli('--level', '3');
    expect(cliLevel.code).toBe(2);
    expect(cliLevel.err).toMatch(/^dinoscope extract: .*half\.png: --level: 3 does not exist \(the image has levels 0–2\)\.\n$/);
    expect((await viaCli('--mpp', '0.5')).err).toMatch(
      /half\.png: --mpp: the file states no resolution, so 0\.5 µm per pixel cannot be honoured; use --level instead\.\n$/,
    );
    expect((await viaCli('--batch', '300')).err).toBe('dinoscope extract: --batch: must be an integer from 1 to 256, got 300.\n');
  }, 60_000);

  it('attention and token-norm maps for a region become overlays with a legend', async () => {
    const overlays = await service.attentionMaps(imageId, { modelId: 'tiny', x: 0, y: 0, width: 448, height: 448 });
    expect(overlays.map((o) => o.id).sort()).toEqual(['attention', 'token-norm']);
    expect(overlays[0].legend.length).toBe(3);
    expect(overlays[0].tileUrl).toMatch(/\?v=\d+$/);
    // The overlay tile at full resolution over the region is opaque heatmap; outside it, transparent.
    const g = await service.tileSource(imageId);
    const png = await service.overlayTile(imageId, 'attention', g.maxLevel, 1, 0); // image x 256..511
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(data[(info.width * 10 + 100) * 4 + 3]).toBe(255); // x = 356 is in the region (x < 448)
    expect(data[(info.width * 10 + 244) * 4 + 3]).toBe(0); // x = 500 is outside
  }, 60_000);
});
