// Choosing the feature set in Chromium against the serve host: two texture mosaics with two SYNTHETIC
// feature sets in the extraction layout ("older" over both images, "newer" over the first only; the
// project predates the recorded choice, so the oldest is active) and a random tiny model for the Extract
// panel. The Find similar panel names the active set's model, µm/px and coverage; the cards mark the
// images with features in it; choosing "newer" in the chooser clears the matches, the second card loses
// its mark, and its PCA map fails with the image's file name and what to do; deleting a set asks first
// and removes it. The Extract panel shows the patch count and time before Start and leaves the active set
// alone by default. Set E2E_SHOTS=<folder> to keep screenshots of each screen.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { vitConfig } from '../core/model/config.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { AnalysisPage } from './pages/analysis.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 16 };
const skip = chromiumMissing();

describe.skipIf(skip !== null)('feature sets in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  const consoleErrors: string[] = [];

  const shot = async (name: string): Promise<void> => {
    if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, `${name}.png`) });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-sets-'));
    const p = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 2, SPEC));
    names = p.names;
    await writeSyntheticFeatures(p.service.requireProject(), p.ids, SPEC, 'older');
    await new Promise((r) => setTimeout(r, 5));
    await writeSyntheticFeatures(p.service.requireProject(), [p.ids[0]], SPEC, 'newer');
    await p.service.close();
    const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
    const tensors = new Map<string, WeightTensor>(
      Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
    );
    await exportWeights(join(projectModelsDir(join(dir, 'project')), 'tiny'), cfg, tensors, 'hf');
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('shows the active set, chooses another (results cleared, the missing image named), deletes one after asking', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    const mark = (i: number) => project.card(names[i]).getByTestId('image-features');
    expect(await mark(0).getAttribute('data-has')).toBe('true');
    expect(await mark(1).getAttribute('data-has')).toBe('true');

    await project.card(names[1]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    const analysis = new AnalysisPage(page, viewer);
    const chooser = page.getByTestId('feature-set');
    expect(await chooser.getAttribute('data-active')).toBe('older');
    expect(await chooser.getByTestId('feature-set-model').textContent()).toBe('synthetic');
    expect(await chooser.getByTestId('feature-set-mpp').textContent()).toBe('level 0');
    expect(await chooser.getByTestId('feature-set-coverage').textContent()).toBe('2/2 images');
    await viewer.waitStill();
    await analysis.clickImagePoint(100, 100);
    expect((await analysis.matches()).length).toBe(20);

    // Choose "newer": the matches go, the second card loses its mark, the list shows coverage per set.
    await chooser.getByTestId('feature-set-change').click();
    const rows = page.getByTestId('feature-set-row');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).textContent()).toContain('1/2 images');
    await shot('sets-chooser-open');
    await page.locator('[data-testid="feature-set-row"][data-id="newer"]').getByTestId('feature-set-use').click();
    await page.locator('[data-testid="feature-set"][data-active="newer"]').waitFor();
    await page.locator('[data-testid="analysis-panel"][data-matches="0"]').waitFor();
    await page.locator(`[data-testid="image-card"][data-name="${names[1]}"] [data-testid="image-features"][data-has="false"]`).waitFor();
    expect(await mark(0).getAttribute('data-has')).toBe('true');
    expect(await page.getByTestId('analysis-needs-features').textContent()).toContain('no features in the active set');
    expect(
      (JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as { activeFeatureSet: string }).activeFeatureSet,
    ).toBe('newer');

    // A map of this image needs its features: the error names the file and says what to do.
    await page.getByTestId('pca-toggle').check();
    const error = page.getByTestId('analysis-error');
    await error.waitFor();
    const text = (await error.textContent())!;
    expect(text).toContain(`${names[1]} has no features in the active feature set "newer" (model synthetic, level 0)`);
    expect(text).toContain('Extract features');
    expect(text).not.toMatch(/[0-9a-f]{16}/);
    await shot('sets-error');
    // The refused map requests are the only failed loads (the browser logs each 400).
    expect(consoleErrors.length).toBeGreaterThan(0);
    expect(new Set(consoleErrors)).toEqual(new Set(['Failed to load resource: the server responded with a status of 400 (Bad Request)']));
    consoleErrors.length = 0;
    await page.getByTestId('pca-toggle').uncheck();

    // Delete "newer" (asked first): none is active until one is chosen.
    await page.locator('[data-testid="feature-set-row"][data-id="newer"]').getByTestId('feature-set-delete').click();
    await page.getByTestId('feature-set-confirm').waitFor();
    await shot('sets-delete-confirm');
    await page.getByTestId('feature-set-delete-confirm').click();
    await page.locator('[data-testid="feature-set"][data-active=""]').waitFor();
    expect(await rows.count()).toBe(1);
    await expect(stat(join(dir, 'project', 'cache', 'features', 'newer'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await page.getByTestId('feature-set-none').textContent()).toContain('No feature set chosen');
    await page.locator('[data-testid="feature-set-row"][data-id="older"]').getByTestId('feature-set-use').click();
    await page.locator('[data-testid="feature-set"][data-active="older"]').waitFor();
    expect(consoleErrors).toEqual([]);
  });

  it('the Extract panel shows the patch count and time before Start, and keeps the active set by default', async () => {
    if (skip) return;
    await page.getByTestId('extract-button').click();
    await page.getByTestId('extract-device').selectOption('cpu');
    const estimate = page.getByTestId('extract-estimate');
    await estimate.waitFor();
    // PNGs state no µm/px and have one level: level 0, 32 × 32 patches each.
    expect(await page.getByTestId('extract-level').inputValue()).toBe('0');
    expect(await estimate.getAttribute('data-patches')).toBe(String(2 * 32 * 32));
    expect(Number(await estimate.getAttribute('data-seconds'))).toBeGreaterThan(0);
    expect(await estimate.textContent()).toMatch(
      /^2,048 patches in 2 images: (under a second|about \d+ (s|min)) at [\d,]+ patches\/s on cpu, estimated from the model's size/,
    );
    expect(await page.getByTestId('extract-activate').isChecked()).toBe(false);
    await shot('sets-extract-panel');
    expect(consoleErrors).toEqual([]);
  });
});
