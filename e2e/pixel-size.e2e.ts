// Stating the pixel size of images whose files state none, in Chromium against the serve host. A folder of
// two pyramidal TIFFs without a resolution tag and one stating 0.25 µm/px is imported through the import
// dialog; the collection then asks "2 images have no pixel size: state one for all", refuses a value that is
// no number in plain words, and applies 0.5 µm/px to those two only (the cards, the API and the viewer's
// scale bar follow). The selected image's properties show the file's own size read only, and for a stated one
// clear it (the note says how such an image is read) and state another. Set E2E_SHOTS=<folder> to keep
// screenshots of the prompt and the properties.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectSummary } from '../core/common/api.js';
import { AppService, rootAssetUrls } from '../core/app/service.js';
import { writePyramidalTiff } from '../core/data/fixtures/pyramidal-tiff.js';
import { ProjectPage } from './pages/project.js';
import { chromiumMissing } from './support/browser.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('the pixel size of images whose files state none', () => {
  let dir: string;
  let slides: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const shot = async (name: string, testId: string): Promise<void> => {
    if (process.env.E2E_SHOTS) await page.getByTestId(testId).screenshot({ path: join(process.env.E2E_SHOTS, `${name}.png`) });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-pixel-size-'));
    slides = join(dir, 'slides');
    await mkdir(slides);
    await writePyramidalTiff(join(slides, 'a.tif'), { width: 1024, height: 1024, tile: 256, compression: 'jpeg' });
    await writePyramidalTiff(join(slides, 'b.tif'), { width: 1024, height: 768, tile: 256, compression: 'jpeg' });
    await writePyramidalTiff(join(slides, 'scan.tif'), { width: 1024, height: 1024, tile: 256, compression: 'jpeg', pixelsPerMm: 4000 });
    process.env.DINOSCOPE_HOME = join(dir, 'home');
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
    await service.createProject(join(dir, 'project'));
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('is asked for after the import, stated for all at once, and shown, cleared and changed in the properties', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    const dialog = await project.openImportDialog();
    await dialog.goTo(slides);
    await dialog.confirm(); // nothing picked: the whole folder
    for (const name of ['a.tif', 'b.tif', 'scan.tif']) await project.waitForStatus(name, 'ok');

    const prompt = page.locator('[data-testid="mpp-prompt"][data-count="2"]');
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain('2 images have no pixel size: state one for all');
    await page.getByTestId('mpp-prompt-input').fill('abc');
    await page.getByTestId('mpp-prompt-apply').click();
    expect(await page.getByTestId('mpp-prompt-problem').textContent()).toBe('"abc" is not a positive number of µm per pixel.');
    await page.getByTestId('mpp-prompt-input').fill('0.5');
    await shot('pixel-size-prompt', 'collection');
    await page.getByTestId('mpp-prompt-apply').click();
    await page.getByTestId('mpp-prompt').waitFor({ state: 'detached' });
    for (const name of ['a.tif', 'b.tif'])
      expect(await project.card(name).getByTestId('image-mpp').textContent()).toMatch(/^\s*0\.500 µm\/px \(stated\) · \d levels\s*$/);
    expect(await project.card('scan.tif').getByTestId('image-mpp').textContent()).toMatch(/^\s*0\.250 µm\/px · \d levels\s*$/);
    const stated = await callApi<ProjectSummary>(serve, 'currentProject');
    expect(Object.fromEntries(stated.images.map((i) => [i.name, i.statedMpp ?? null]))).toEqual({
      'a.tif': 0.5,
      'b.tif': 0.5,
      'scan.tif': null,
    });

    // The file's own size: read only.
    await project.card('scan.tif').click();
    const fileSize = page.locator('[data-testid="pixel-size"][data-source="file"]');
    await fileSize.waitFor();
    expect(await fileSize.textContent()).toMatch(/0\.2500 µm\/px \(stated in the file\)/);
    expect(await page.getByTestId('pixel-size-input').count()).toBe(0);

    // A stated size: the viewer's scale bar uses it; cleared, the note says how the image is read; changed.
    await project.card('b.tif').click();
    await page.locator('[data-testid="pixel-size"][data-source="stated"]').waitFor();
    expect(await page.getByTestId('pixel-size-stated').textContent()).toContain('0.5 µm/px (stated by you)');
    await page.getByTestId('scale-bar').waitFor();
    await page.getByTestId('pixel-size-clear').click();
    await page.locator('[data-testid="pixel-size"][data-source="none"]').waitFor();
    expect(await page.getByTestId('pixel-size-missing').textContent()).toContain(
      'The file states no pixel size: runs by µm/px read this image at a pyramid level',
    );
    await page.getByTestId('scale-bar').waitFor({ state: 'detached' });
    await page.getByTestId('pixel-size-input').fill('0.8');
    await shot('pixel-size-properties-none', 'collection');
    await page.getByTestId('pixel-size-save').click();
    await page.locator('[data-testid="pixel-size"][data-source="stated"]').waitFor();
    expect(await page.getByTestId('pixel-size-stated').textContent()).toContain('0.8 µm/px (stated by you)');
    await page.getByTestId('scale-bar').waitFor();
    await shot('pixel-size-properties-stated', 'collection');
    const after = await callApi<ProjectSummary>(serve, 'currentProject');
    expect(after.images.find((i) => i.name === 'b.tif')).toMatchObject({ statedMpp: 0.8, meta: { mpp: 0.8 } });
    expect(consoleErrors).toEqual([]);
  });
});
