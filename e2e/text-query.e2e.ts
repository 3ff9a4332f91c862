// Text search in Chromium against the serve host: two texture mosaics, a tiny random DINOv3 backbone with
// the dino.txt parity fixture attached (core/model/text/fixtures), features extracted through its vision
// head. Typing words in Find similar and pressing Find draws the heatmap of the open image, lists the
// best regions of the collection and says what was searched; a set without a text tower disables the
// box with a line saying what is needed. Screenshots go to $E2E_SHOTS when it is set.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { extractFeatures } from '../core/features/extract/project.js';
import { vitConfig } from '../core/model/config.js';
import { attachDinoTxt } from '../core/model/text/attached.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();
const shots = process.env.E2E_SHOTS;
const fixture = (p: string): string => fileURLToPath(new URL(`../core/model/text/fixtures/${p}`, import.meta.url));

describe.skipIf(skip !== null)('text search (dino.txt) in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  let plainSet: string;
  let textSet: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-text-'));
    const r = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 2, { side: 128, stride: 4, dim: 8 }));
    names = r.names;
    const service = r.service;
    const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: 4, registers: 2 });
    const plain = await service.models.initRandom(vit, 4, { name: 'tiny plain', location: 'project' });
    const withText = await service.models.initRandom(vit, 3, { name: 'tiny txt', location: 'project' });
    await attachDinoTxt(withText.path, vit, fixture('tiny.safetensors'), fixture('tiny-vocab.txt.gz'));
    const project = service.requireProject();
    plainSet = (await extractFeatures(project, service.models, { modelId: plain.id, level: 0, mask: 'off' }, { threads: 1 })).featureSet;
    textSet = (await extractFeatures(project, service.models, { modelId: withText.id, level: 0, mask: 'off' }, { threads: 1 })).featureSet;
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
    await page.setViewportSize({ width: 1440, height: 900 });
    if (shots) await mkdir(shots, { recursive: true });
    await page.goto(serve.url);
    const projectPage = new ProjectPage(page);
    await projectPage.root.waitFor();
    await projectPage.card(names[0]).click();
    await new ViewerPage(page).waitReady();
  }, 120_000);

  afterAll(() => endSession({ browser, serve }, dir));

  it('a set without a text tower disables the box and says what is needed', async () => {
    if (skip) return;
    // The first completed extraction became the active set: the one without a text tower.
    expect((await callApi<{ activeFeatureSet: string }>(serve, 'currentProject')).activeFeatureSet).toBe(plainSet);
    await page.getByTestId('text-query-needs').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('text-query').isDisabled()).toBe(true);
    await expect(page.getByTestId('text-query-needs').textContent()).resolves.toMatch(/dino\.txt model/);
    if (shots) await page.screenshot({ path: join(shots, 'text-query-disabled.png') });
  });

  it('typed words draw the heatmap, list the best regions and name the query', async () => {
    if (skip) return;
    await callApi(serve, 'setActiveFeatureSet', textSet);
    await page.reload();
    const projectPage = new ProjectPage(page);
    await projectPage.root.waitFor();
    await projectPage.card(names[0]).click();
    await new ViewerPage(page).waitReady();
    const box = page.getByTestId('text-query');
    await expect.poll(() => box.isDisabled(), { timeout: 30_000 }).toBe(false);
    await box.fill('tumour nuclei');
    await page.getByTestId('text-query-find').click();
    const query = page.getByTestId('analysis-query');
    await query.waitFor({ timeout: 30_000 });
    await expect(query.textContent()).resolves.toBe('Text: “tumour nuclei”');
    const panel = page.getByTestId('analysis-panel');
    await expect.poll(async () => Number(await panel.getAttribute('data-matches')), { timeout: 30_000 }).toBe(20);
    // The heatmap is drawn as the open image's similarity layer.
    await new ViewerPage(page).waitLayer('similarity', true);
    if (shots) {
      await page.waitForTimeout(1500); // the overlay's tiles
      await page.screenshot({ path: join(shots, 'text-query.png') });
    }
    expect(consoleErrors).toEqual([]);
  });
});
