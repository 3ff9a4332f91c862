// Attention / token-norm maps as a job (they took 45 s on a CPU with nothing on screen): the API's request
// is an 'attention-maps' job whose progress counts the region's model tiles and ends done; cancelling it
// rejects with CANCELLED; regionMaps reports every tile and stops between tiles when its signal aborts.
// A real PNG, a tiny ViT in the project's models folder, real onnxruntime sessions.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import type { JobProgress } from '../../common/api.js';
import { openImage } from '../../data/readers/registry.js';
import { JobRegistry } from '../../jobs/registry.js';
import { vitConfig } from '../../model/config.js';
import { ModelManager } from '../../model/manager/manager.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { regionMaps } from './attention.js';
import { TileModel } from './model.js';
import { workingResolution } from './resolution.js';

const W = 14 * 16 * 4; // 64 × 32 patches of 14 px: 4 × 2 model tiles of 16 × 16 patches
const H = 14 * 16 * 2;
let dir: string;
let png: string;
let service: AppService;
let imageId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-attention-job-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const x = i % W;
    const y = Math.floor(i / W);
    rgb.set([150 + Math.round(50 * Math.sin(x / 7)), 60 + Math.round(40 * Math.cos(y / 5)), 160], 3 * i);
  }
  png = join(dir, 'texture.png');
  await writeFile(
    png,
    await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer(),
  );
  service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(join(dir, 'proj'));
  imageId = (await service.importPaths([png])).added[0].id;
  await service.idle();
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

describe('attention maps as a job', () => {
  it('reports the model, then the tiles of the region, and ends done', async () => {
    const seen: JobProgress[] = [];
    const off = service.on('jobProgress', (p) => p.kind === 'attention-maps' && seen.push(p));
    const overlays = await service.attentionMaps(imageId, { modelId: 'tiny', x: 0, y: 0, width: W, height: H });
    off();
    expect(overlays.map((o) => o.id).sort()).toEqual(['attention', 'token-norm']);
    expect(seen[0]).toMatchObject({ state: 'running', label: 'Attention maps: texture.png' });
    expect(seen.at(-1)).toMatchObject({ state: 'done', done: 8, total: 8 });
    expect(new Set(seen.map((p) => p.jobId)).size).toBe(1);
  }, 60_000);

  it('is cancelled like any job: the request rejects with CANCELLED', async () => {
    const states: string[] = [];
    const off = service.on('jobProgress', (p) => {
      if (p.kind !== 'attention-maps') return;
      states.push(p.state);
      if (p.state === 'running' && states.length === 1) void service.cancelJob(p.jobId);
    });
    await expect(service.attentionMaps(imageId, { modelId: 'tiny', x: 0, y: 0, width: W, height: H })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    off();
    expect(states.at(-1)).toBe('cancelled');
  }, 60_000);

  it('regionMaps reports every tile and stops between tiles when its signal aborts', async () => {
    const models = new ModelManager({ projectDir: () => join(dir, 'proj'), jobs: new JobRegistry() });
    const l = await models.load('tiny');
    const model = await TileModel.create(l.config, l.tensors, {
      batch: 1,
      side: 16 * l.config.patchSize,
      outputs: ['attention', 'tokenNorms'],
    });
    const reader = await openImage(png);
    try {
      const res = workingResolution(reader.meta, { level: 0 }, 14, png);
      const calls: string[] = [];
      await regionMaps(reader, res, model, { x: 0, y: 0, width: W, height: H }, png, { progress: (d, t) => calls.push(`${d}/${t}`) });
      expect(calls).toEqual(['0/8', '1/8', '2/8', '3/8', '4/8', '5/8', '6/8', '7/8', '8/8']);
      const stop = new AbortController();
      const cut: string[] = [];
      const cancelled = regionMaps(reader, res, model, { x: 0, y: 0, width: W, height: H }, png, {
        signal: stop.signal,
        progress: (d, t) => {
          cut.push(`${d}/${t}`);
          if (d === 2) stop.abort();
        },
      });
      await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(cut).toEqual(['0/8', '1/8', '2/8']);
    } finally {
      await reader.close();
      await model.release();
    }
  }, 60_000);
});
