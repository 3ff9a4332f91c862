// The demo continues the pretraining of a foundation model from the user's models folder when there is one,
// and says so: the log's route line, the summary's route, the run's config starting from those weights and
// its continued-pretraining settings. Real slides (the tiny spec), a real model folder of the tiny model's
// architecture, training in this process, real extraction. (Without a model the tiny demo trains from
// scratch: pipeline.test.ts, the CLI demo test.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFormats } from '../app/formats.js';
import { vitConfig } from '../model/config.js';
import { writeModelFolder } from '../model/manager/create.js';
import { initParams } from '../model/params.js';
import { demoPlan } from './options.js';
import { runDemo } from './pipeline.js';
import { trainInProcess } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-route-'));
const home = process.env.DINOSCOPE_HOME;

beforeAll(async () => {
  // The user's models folder ($DINOSCOPE_HOME/models) holds one imported model of the --tiny architecture.
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const vit = vitConfig('tiny', { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } });
  const params = initParams(vit, 5);
  const tensors = new Map(Object.entries(params).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
  await writeModelFolder(join(dir, 'home', 'models'), 'found', vit, tensors, {
    name: 'found',
    source: '/elsewhere/found.safetensors',
    licence: 'test',
    metadata: {},
  });
});
afterAll(() => {
  if (home === undefined) delete process.env.DINOSCOPE_HOME;
  else process.env.DINOSCOPE_HOME = home;
  rmSync(dir, { recursive: true, force: true });
});

describe('demo route', () => {
  it("continues a foundation model of the user's models folder and says so", async () => {
    // The tiny demo's sizes, without its from-scratch rule: the route is the default one.
    const plan = { ...demoPlan({ tiny: true, dir: join(dir, 'demo') }, dir, 2), scratchBecause: undefined };
    const lines: string[] = [];
    const summary = await runDemo(plan, {
      signal: new AbortController().signal,
      progress: () => undefined,
      formats: defaultFormats,
      train: trainInProcess,
      log: (l) => lines.push(l),
    });
    expect(summary.route).toMatchObject({ kind: 'continued', model: 'found' });
    expect(lines).toContainEqual(
      expect.stringMatching(/^demo: continued pretraining from found: found is a foundation model in your models folder/),
    );
    const config = JSON.parse(readFileSync(join(dir, 'demo', 'runs', summary.run, 'train-config.json'), 'utf8')) as {
      model: { from: string };
      optim: { baseLr: number };
    };
    expect(config.model.from).toBe(join(dir, 'home', 'models', 'found', 'model.safetensors'));
    expect(config.optim.baseLr).toBe(0.001);
    expect(summary.patches).toBeGreaterThan(0);
  }, 180_000);
});
