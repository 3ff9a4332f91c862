// The training estimate before Start on a project of one 5-channel panel (the OME-TIFF of
// core/data/fixtures/write-channel-fixtures.ts) is the estimate of the run Start makes: that run trains on
// the panel's channels (model.channels 5, run.ts), so the estimate's memory is the 5-channel model's —
// more than the same preset on RGB composites, and exactly what the 5-channel config needs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { writeChannelFixtures } from '../../data/fixtures/write-channel-fixtures.js';
import { adaptMemory } from '../adapt.js';
import { scratchViT, trainConfig } from '../config.js';

let dir: string;
let service: AppService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-estimate-panel-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const fixtures = await writeChannelFixtures(join(dir, 'fixture'), { width: 256, height: 256 });
  service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(join(dir, 'proj'));
  await service.importPaths([fixtures.omeTiff]);
  await service.idle();
}, 60_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the training estimate on a 5-channel panel', () => {
  it("is the 5-channel run's, not an RGB one's", async () => {
    const panel = await service.trainEstimate({ preset: 'quick' });
    const rgb = await service.trainEstimate({ preset: 'quick', overrides: { model: { channels: null } } });
    expect(panel.totalBytes).toBeGreaterThan(rgb.totalBytes);
    const c = trainConfig('quick', { model: { channels: 5 } });
    const worst = Math.max(...adaptMemory(c, scratchViT(c)).map((m) => m.bytes));
    expect(panel.totalBytes).toBe(worst);
  }, 60_000);
});
