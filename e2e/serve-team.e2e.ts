// The serve host shared by a team, in Chromium: two browser contexts (their own cookies) on one host. The
// editor starts a training run (the smoke-test model of train.e2e.ts, a budget far beyond the test) from the
// Train panel; the viewer's link shows "read-only (viewer)" in the header, no write controls (Import, Close,
// remove, Models, Extract, Export, Cancel), views a slide, sees the run's progress advance in its job bar
// and follows the run in the Train panel without its controls. The editor's browser closes mid-run; the run
// goes on: a new editor context opened while it runs sees it with Cancel and cancels it there, and a new
// editor context then sees it stopped in the Train panel. The host still refuses a write from the viewer's
// browser (403). E2E_SHOTS=<folder> saves the screens.
// The run ends by the later editor's Cancel, not by its budget: on a loaded machine the viewer's steps can
// take longer than any short budget, and the run must still be running when the later editor looks.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainRunInfo } from '../core/common/api.js';
import { ProjectPage } from './pages/project.js';
import { TrainPage } from './pages/train.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import { mosaicProjectSession } from './support/mosaic-session.js';
import { callApi, startServe, type RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';
import { shot } from './support/shots.js';

const skip = chromiumMissing();
/** The smoke-test model beyond the advanced fields (as `dinoscope pretrain --tiny`). */
const TINY_EXTRA = {
  model: { vit: { patchSize: 8, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  head: { hidden: 32, bottleneck: 16 },
  runtime: { threads: 1 },
};
const TINY_FIELDS = { batchSize: 2, globalSize: 32, localSize: 16, localCrops: 2, prototypes: 32, registers: 2 };
/** Far longer than the test: the later editor cancels the run. */
const MINUTES = 10;
/** The Train panel's controls of runs: none for the viewer (who may open the panel to watch). */
const TRAIN_CONTROLS = [
  'train-new',
  'train-pause',
  'train-stop',
  'train-resume',
  'train-continue',
  'train-start',
  'train-extract',
  'train-adapt',
];
/** Controls that change the project or the host: none may show for the viewer. */
const WRITE_CONTROLS = ['import-button', 'close-project', 'image-remove', 'models-button', 'extract-button', 'export-button', 'job-cancel'];

describe.skipIf(skip !== null)('serve host for a team (two browsers, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let names: string[];
  const consoleErrors: string[] = [];

  /** A browser context of its own (cookies apart from the others) and its page, logging console errors. */
  async function openContext(url: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page.getByTestId('project-view').waitFor();
    return { context, page };
  }

  const trainJob = (page: Page) => page.locator('[data-testid="job"][data-kind="train"]');

  beforeAll(async () => {
    // dir/project, DINOSCOPE_HOME dir/home; each browser below opens its own context.
    ({ dir, serve, browser, names } = await mosaicProjectSession('team', consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('an editor trains, a viewer watches read-only, the run outlives the editor closing its browser', async () => {
    // The editor starts a run from the Train panel.
    const editor = await openContext(serve.url);
    const train = new TrainPage(editor.page);
    await train.open();
    await train.waitSetup();
    await train.choosePreset('quick');
    await train.setAdvanced(TINY_FIELDS, TINY_EXTRA);
    await train.root.getByTestId('train-minutes').fill(String(MINUTES));
    await train.start();
    const run = await train.runName();
    await trainJob(editor.page).waitFor();

    // The viewer: its own context and link. Read-only in the header; no write control anywhere.
    const viewer = await openContext(serve.viewerUrl);
    const badge = viewer.page.getByTestId('viewer-badge');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('read-only (viewer)');
    expect(await editor.page.getByTestId('viewer-badge').count()).toBe(0);
    // It views a slide like anyone else.
    const tile = viewer.page.waitForResponse((r) => r.url().includes('/tiles/') && r.status() === 200, { timeout: 60_000 });
    await new ProjectPage(viewer.page).card(names[0]).click();
    const slide = new ViewerPage(viewer.page);
    await slide.waitReady();
    await tile;
    await slide.waitStill();
    // The editor's run shows in the viewer's job bar, without Cancel, and its progress arrives.
    const job = trainJob(viewer.page);
    await job.waitFor();
    await viewer.page.waitForFunction(
      () => Number(document.querySelector('[data-testid="job"][data-kind="train"]')?.getAttribute('data-done') ?? 0) > 0,
      undefined,
      { timeout: 90_000 },
    );
    const seen = Number(await job.getAttribute('data-done'));
    await viewer.page.waitForFunction(
      (min) => Number(document.querySelector('[data-testid="job"][data-kind="train"]')?.getAttribute('data-done') ?? 0) > min,
      seen,
      { timeout: 60_000 },
    );
    for (const id of WRITE_CONTROLS) expect(await viewer.page.getByTestId(id).count(), id).toBe(0);
    expect(await editor.page.getByTestId('extract-button').count()).toBe(1);
    await shot(viewer.page, 'team-viewer');
    // The viewer follows the run in the Train panel: the live run, without its controls.
    const watch = new TrainPage(viewer.page);
    await watch.open();
    await watch.run().waitFor();
    expect(await watch.runName()).toBe(run);
    for (const id of TRAIN_CONTROLS) expect(await watch.root.getByTestId(id).count(), id).toBe(0);
    await watch.waitStepAbove(0, 90_000);
    await shot(viewer.page, 'team-viewer-train');
    await watch.close();

    // The editor's browser closes mid-run; the run goes on in the host.
    await editor.context.close();
    const later = await openContext(serve.url);
    const laterJob = trainJob(later.page);
    await laterJob.waitFor();
    expect(await laterJob.getAttribute('data-state')).toBe('running');
    expect(await laterJob.getByTestId('job-cancel').count()).toBe(1);
    await shot(later.page, 'team-editor-later');
    // The later editor ends the run from its job bar; the host stops it.
    await laterJob.getByTestId('job-cancel').click();
    await expect
      .poll(async () => (await callApi<TrainRunInfo[]>(serve, 'trainingRuns')).find((r) => r.name === run)?.status, {
        timeout: 180_000,
        interval: 1000,
      })
      .toBe('stopped');
    await later.context.close();

    const again = await openContext(serve.url);
    const trainAgain = new TrainPage(again.page);
    await trainAgain.open();
    await trainAgain.waitStatus('stopped');
    expect(await trainAgain.runName()).toBe(run);
    expect(await trainAgain.step()).toBeGreaterThan(0);
    await shot(again.page, 'team-editor-stopped');
    await again.context.close();

    expect(consoleErrors).toEqual([]);
    // The host, not only the UI, refuses a write from the viewer's browser (its cookie is the viewer token).
    const refused = await viewer.page.evaluate(async () => {
      const res = await fetch('/api/call/removeImage', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(['0000000000000000']),
      });
      return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toContain('read-only viewer');
    await viewer.context.close();
    // Chromium logs the 403 just provoked (and only it) as a console error.
    expect(consoleErrors).toEqual([expect.stringContaining('403')]);
    consoleErrors.length = 0;
  }, 420_000);

  it('shows a viewer on a host with no project what it waits for, and the project once the editor opens it', async () => {
    const empty = await startServe(null, join(dir, 'home'));
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      await page.goto(empty.viewerUrl);
      const waiting = page.getByTestId('viewer-waiting');
      await waiting.waitFor();
      expect(await waiting.textContent()).toContain('as soon as the editor opens one');
      for (const id of ['create-project', 'open-project', 'recent-project']) expect(await page.getByTestId(id).count(), id).toBe(0);
      await shot(page, 'team-viewer-waiting');
      await callApi(empty, 'openProject', join(dir, 'project'));
      await page.getByTestId('viewer-badge').waitFor();
      expect(await page.getByTestId('image-card').count()).toBe(names.length);
      await context.close();
      expect(consoleErrors).toEqual([]);
    } finally {
      await empty.stop();
    }
  }, 120_000);
});
