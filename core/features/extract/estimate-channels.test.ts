// The extraction estimate on a 5-channel fluorescence image (the OME-TIFF of
// core/data/fixtures/write-channel-fixtures.ts): the per-channel route runs each patch through the RGB model
// once per channel, so its estimate is 5× a single pass over the same patches, before any run (rate from
// the model's size) and after one (a measured per-channel run's rate is turned back into single passes
// before it prices a 5-channel model's run); a 5-channel model takes one pass a patch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { writeChannelFixtures } from '../../data/fixtures/write-channel-fixtures.js';
import type { HostTensor } from '../../graph/tensor.js';
import { vitConfig } from '../../model/config.js';
import { inflatePatchEmbed } from '../../model/inflate.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { estimateExtraction, estimatedRate, flopsPerPatch } from './estimate.js';

let dir: string;
let service: AppService;

const toTensors = (w: Record<string, HostTensor>): Map<string, WeightTensor> =>
  new Map(Object.entries(w).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-estimate-channels-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const fixtures = await writeChannelFixtures(join(dir, 'fixture'), { width: 256, height: 256 });
  service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(join(dir, 'proj'));
  await service.importPaths([fixtures.omeTiff]);
  await service.idle();
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 32, depth: 1, heads: 2, registers: 1 });
  const weights = initParams(cfg, 3);
  const models = projectModelsDir(join(dir, 'proj'));
  await exportWeights(join(models, 'rgb'), cfg, toTensors(weights), 'hf');
  const inflated = inflatePatchEmbed(cfg, weights, 5);
  await exportWeights(join(models, 'inflated5'), inflated.config, toTensors(inflated.weights), 'hf');
}, 120_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the extraction estimate of a 5-channel image', () => {
  it('is 5× a single pass on the per-channel route, before a run and from a measured run', async () => {
    const rgb = await service.models.find('rgb');
    const five = await service.models.find('inflated5');
    expect([rgb.inChans, five.inChans]).toEqual([3, 5]);
    const o = { level: 0, device: 'cpu' as const };
    const project = service.requireProject();

    const perChannel = estimateExtraction(project, rgb, { modelId: 'rgb', ...o }, 'cpu');
    const grid = 256 / 14;
    expect(perChannel).toMatchObject({ images: 1, route: 'per-channel', passesPerPatch: 5, rateFrom: 'estimated' });
    expect(perChannel.patches).toBe(Math.floor(grid) ** 2);
    const singlePass = perChannel.patches / estimatedRate(rgb, 'cpu');
    expect(perChannel.seconds / singlePass).toBeCloseTo(5, 6);

    const channels = estimateExtraction(project, five, { modelId: 'inflated5', ...o }, 'cpu');
    expect(channels).toMatchObject({ route: 'channels', patches: perChannel.patches });
    expect(channels.passesPerPatch).toBeUndefined();
    expect(channels.seconds).toBeCloseTo(channels.patches / estimatedRate(five, 'cpu'), 9);

    // A measured per-channel run: its recorded patches per second are 5 passes each.
    await service.extractFeatures({ modelId: 'rgb', ...o });
    const set = project.featureSets().find((s) => s.modelId === 'rgb')!;
    const measured = set.speed!.patchesPerSecond;
    const again = estimateExtraction(project, rgb, { modelId: 'rgb', ...o, mask: 'off' }, 'cpu');
    expect(again).toMatchObject({ rateFrom: 'measured', passesPerPatch: 5 });
    expect(again.patchesPerSecond).toBeCloseTo(measured, 9);
    const scaled = estimateExtraction(project, five, { modelId: 'inflated5', ...o }, 'cpu', await service.models.list());
    expect(scaled).toMatchObject({ rateFrom: 'scaled', rateModel: 'rgb' });
    expect(scaled.patchesPerSecond / ((measured * flopsPerPatch(rgb)) / flopsPerPatch(five))).toBeCloseTo(5, 6);
  }, 120_000);
});
