// The channel route in the Extract and Train panels, in Chromium against the serve host, on the generated
// 5-channel OME-TIFF (core/data/fixtures/write-channel-fixtures.ts) with an RGB model and the same model
// inflated to 5 channels: the Extract panel shows the route the chosen model takes (per-channel for the RGB
// model, its estimate saying each patch goes through the model 5 times) with the alternative and one line
// each; choosing "channels" switches to the 5-channel model, and the extracted feature set records that
// route (project.json). The Train panel shows the training routes, inflate when it starts from the RGB model,
// and choosing embed starts from random weights. Set E2E_SHOTS=<folder> to keep screenshots of both panels.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedProject } from '../core/app/fixture-service.js';
import { writeChannelFixtures } from '../core/data/fixtures/write-channel-fixtures.js';
import type { HostTensor } from '../core/graph/tensor.js';
import { vitConfig } from '../core/model/config.js';
import { inflatePatchEmbed } from '../core/model/inflate.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { ProjectPage } from './pages/project.js';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

const toTensors = (w: Record<string, HostTensor>): Map<string, WeightTensor> =>
  new Map(Object.entries(w).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));

describe.skipIf(skip !== null)('the channel route in the Extract and Train panels', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-channel-routes-'));
    const fx = await writeChannelFixtures(join(dir, 'data'), { width: 256, height: 256 });
    const p = await importedProject(dir, [fx.omeTiff]);
    await p.service.close();
    const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 32, depth: 1, heads: 2, registers: 1 });
    const weights = initParams(cfg, 3);
    const models = projectModelsDir(join(dir, 'project'));
    await exportWeights(join(models, 'rgb'), cfg, toTensors(weights), 'hf');
    const inflated = inflatePatchEmbed(cfg, weights, 5);
    await exportWeights(join(models, 'inflated5'), inflated.config, toTensors(inflated.weights), 'hf');
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  }, 120_000);

  afterAll(() => endSession({ browser, serve }, dir));

  it('Extract: shows the route with its alternative, switches the model with it, and the set records it', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.goto(serve.url);
    await new ProjectPage(page).root.waitFor();
    await page.getByTestId('extract-button').click();
    await page.getByTestId('extract-device').selectOption('cpu');
    await page.locator('input[type="radio"][value="level"]').check();
    await page.getByTestId('extract-level').fill('0');
    await page.getByTestId('extract-model').selectOption('rgb');
    const routes = page.getByTestId('extract-channels');
    await expect.poll(() => routes.getAttribute('data-route')).toBe('per-channel');
    expect(await routes.locator('legend').textContent()).toBe('Channels: 5 channels (DAPI, AF488, AF555, AF647, AF750)');
    const lines = (await routes.locator('label').allTextContents()).map((l) => l.trim());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^per-channel \(will be used\): an RGB model as it is, no training: each channel as grey/);
    expect(lines[1]).toMatch(/^channels: a model of this panel \(trained with embed or inflate\) takes the C channels at once/);
    const estimate = page.getByTestId('extract-estimate');
    await expect.poll(() => estimate.textContent(), { timeout: 20_000 }).toMatch(/per-channel: each patch through the model 5 times/);
    if (process.env.E2E_SHOTS)
      await page.getByTestId('extract-panel').screenshot({ path: join(process.env.E2E_SHOTS, 'extract-channels-per-channel.png') });

    await page.getByTestId('extract-channels-channels').check();
    await expect.poll(() => routes.getAttribute('data-route')).toBe('channels');
    expect(await page.getByTestId('extract-model').inputValue()).toBe('inflated5');
    await expect.poll(() => estimate.textContent(), { timeout: 20_000 }).not.toMatch(/per-channel/);
    if (process.env.E2E_SHOTS)
      await page.getByTestId('extract-panel').screenshot({ path: join(process.env.E2E_SHOTS, 'extract-channels-channels.png') });
    await page.getByTestId('extract-start').click();
    await page.getByTestId('extract-foreground').waitFor({ timeout: 120_000 });
    const project = JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as {
      features: { id: string; dim: number; input?: { route: string; channels?: string[] } }[];
    };
    expect(project.features.map((s) => [s.id, s.dim, s.input?.route])).toEqual([['inflated5-level0', 32, 'channels']]);
    expect(project.features[0].input?.channels).toEqual(['DAPI', 'AF488', 'AF555', 'AF647', 'AF750']);
    await page.keyboard.press('Escape');
  }, 240_000);

  it('Train: inflate from the RGB model, embed from random weights', async () => {
    if (skip) return;
    const train = new TrainPage(page);
    await train.openSetup();
    const routes = page.getByTestId('train-channels');
    await page.getByTestId('train-from').selectOption('rgb');
    await expect.poll(() => routes.getAttribute('data-route')).toBe('inflate');
    const lines = (await routes.locator('label').allTextContents()).map((l) => l.trim());
    expect(lines[0]).toMatch(/^embed: a patch embedding of the C channels' own/);
    expect(lines[1]).toMatch(/^inflate \(will be used\): an RGB foundation model's patch embedding widened to the C channels/);
    if (process.env.E2E_SHOTS) await train.root.screenshot({ path: join(process.env.E2E_SHOTS, 'train-channels-inflate.png') });
    await page.getByTestId('train-channels-embed').check();
    await expect.poll(() => routes.getAttribute('data-route')).toBe('embed');
    expect(await page.getByTestId('train-from').inputValue()).toBe('');
    expect(await page.getByTestId('train-route').getAttribute('data-route')).toBe('scratch');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
