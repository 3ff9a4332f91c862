// The route of a new pretraining run (route.ts) on real model folders: a foundation model in the user's
// models folder is the default start, crop sides are fitted to its patch size (14, as DINOv2's) unless the
// user set them, and the resulting config carries the continued-pretraining settings.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitConfig } from '../model/config.js';
import { writeModelFolder } from '../model/manager/create.js';
import { initParams } from '../model/params.js';
import { JobRegistry } from '../jobs/registry.js';
import { ModelManager } from '../model/manager/manager.js';
import { trainConfig } from './config.js';
import { pretrainRoute, routeLine, routeOverrides } from './route.js';

let dir: string;
const vit = vitConfig('tiny', { patchSize: 14, dim: 32, depth: 1, heads: 2, registers: 2, posEmbed: { gridSize: 4 } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-route-'));
  const params = initParams(vit, 3);
  const tensors = new Map(Object.entries(params).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await writeModelFolder(join(dir, 'home', 'models'), 'dino14', vit, tensors, {
    name: 'DINO-like /14',
    source: '/elsewhere/dino14.safetensors',
    licence: 'test',
    metadata: {},
  });
  await writeModelFolder(join(dir, 'home', 'models'), 'baseline', vit, tensors, {
    name: 'random',
    source: 'init:3',
    licence: 'test',
    metadata: {},
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('pretrainRoute', () => {
  it("continues a foundation model of the user's folder by default and fits the crops to its patch size", async () => {
    const models = await new ModelManager({ projectDir: () => null, jobs: new JobRegistry(), userDir: join(dir, 'home', 'models') }).list();
    const route = await pretrainRoute({ projectDir: join(dir, 'p'), models });
    expect(route).toMatchObject({
      kind: 'continued',
      model: 'dino14',
      weights: join(dir, 'home', 'models', 'dino14', 'model.safetensors'),
    });
    expect(routeLine(route)).toMatch(/^continued pretraining from dino14: dino14 is a foundation model in your models folder/);

    // Quick's 112 / 48 px crops → 112 (8 patches) / 42 (3 patches); a crop side the user set is kept.
    const o = await routeOverrides(route, 'quick', { batchSize: 2 });
    const c = trainConfig('quick', o);
    expect(c.crops).toMatchObject({ globalSize: 112, localSize: 42 });
    expect(c.model.from).toBe(route.weights);
    expect(c.optim.baseLr).toBe(0.001);
    expect(trainConfig('quick', await routeOverrides(route, 'quick', { crops: { localSize: 56 } })).crops.localSize).toBe(56);

    // Without a foundation model (the random baseline does not count) the run starts from scratch.
    const none = await pretrainRoute({ projectDir: join(dir, 'p'), models: models.filter((m) => m.id !== 'dino14') });
    expect(none.kind).toBe('scratch');
    expect(routeLine(none)).toMatch(/^pretraining from scratch: no foundation model/);
    expect(await routeOverrides(none, 'quick', { batchSize: 2 })).toEqual({ batchSize: 2 });
  });
});
