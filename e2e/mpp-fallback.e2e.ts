// The Extract panel on a mixed collection in Chromium against the serve host: a pyramidal TIFF stating
// 0.25 µm/px and a PNG stating none. Asked for 0.5 µm/px, the estimate counts both images (the PNG at
// level 0, 32 × 32 patches each) and a line names the PNG and how it is read; nothing is refused.
// Set E2E_SHOTS=<folder> to keep a screenshot of the panel.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedProject } from '../core/app/fixture-service.js';
import { writePyramidalTiff } from '../core/data/fixtures/pyramidal-tiff.js';
import { texture } from '../core/features/extract/fixture.js';
import { vitConfig } from '../core/model/config.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { ProjectPage } from './pages/project.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('extraction by µm/px of a collection where one image states none', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-mpp-fallback-'));
    const tiff = join(dir, 'scan.tif');
    const png = join(dir, 'export.png');
    await writePyramidalTiff(tiff, { width: 896, height: 896, tile: 256, compression: 'jpeg', pixelsPerMm: 4000 }); // 0.25 µm/px
    await sharp(texture(448, 448), { raw: { width: 448, height: 448, channels: 3 } })
      .png()
      .toFile(png);
    const p = await importedProject(dir, [tiff, png]);
    await p.service.close();
    const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
    const tensors = new Map<string, WeightTensor>(
      Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
    );
    await exportWeights(join(projectModelsDir(join(dir, 'project')), 'tiny'), cfg, tensors, 'hf');
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('the Extract panel counts both images and names the one read at level 0', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(serve.url);
    await new ProjectPage(page).root.waitFor();
    await page.getByTestId('extract-button').click();
    await page.getByTestId('extract-device').selectOption('cpu');
    await page.locator('input[type="radio"][value="mpp"]').check();
    await page.getByTestId('extract-mpp').fill('0.5');
    const estimate = page.locator('[data-testid="extract-estimate"][data-patches="2048"]');
    await estimate.waitFor();
    expect(await estimate.textContent()).toMatch(/^2,048 patches in 2 images:/);
    expect(await page.getByTestId('extract-fallback').textContent()).toBe(
      'export.png states no µm per pixel: it is extracted at level 0 (its own pixels).',
    );
    expect(await page.getByTestId('extract-refused').count()).toBe(0);
    if (process.env.E2E_SHOTS)
      await page.getByTestId('extract-panel').screenshot({ path: join(process.env.E2E_SHOTS, 'extract-mpp-fallback.png') });
    expect(consoleErrors).toEqual([]);
  });
});
