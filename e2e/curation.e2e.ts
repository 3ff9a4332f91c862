// A curated training set from the Train panel in Chromium against the serve host: three texture mosaics with
// SYNTHETIC features (each texture its own direction), "Curate…" makes the list as a job, the panel then
// trains from it (Training tiles: the set) and shows its tiles per cluster before and after balancing and a
// few tiles of each cluster; a short run from the set says in its header and its row that it trained on it.
// The distillation form offers the same sets, and its Start sends the chosen one (a set deleted on disk is
// refused by name). Set E2E_SHOTS=<folder> to keep screenshots.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { vitConfig } from '../core/model/config.js';
import { TrainPage } from './pages/train.js';
import { ProjectPage } from './pages/project.js';
import { chromiumMissing } from './support/browser.js';
import { mosaicProjectSession, writeRandomModel } from './support/mosaic-session.js';
import type { RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 1344, stride: 14, dim: 16, noise: 0.3 };
/** A smoke-test ViT for the run from the curated set (as train.e2e.ts's: a step takes well under a second). */
const TINY_EXTRA = {
  model: { vit: { patchSize: 8, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  head: { hidden: 32, bottleneck: 16 },
  runtime: { threads: 1 },
};
const TINY_FIELDS = { batchSize: 2, globalSize: 32, localSize: 16, localCrops: 2, prototypes: 32, registers: 2 };
const skip = chromiumMissing();

describe.skipIf(skip !== null)('curated training tiles in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ dir, serve, browser, page } = await mosaicProjectSession('curate', consoleErrors, {
      images: 3,
      spec: SPEC,
      prepare: async (folder, p) => {
        await writeSyntheticFeatures(p.service.requireProject(), p.ids, SPEC, 'set');
        // A teacher for the distillation form (random weights: nothing is trained here).
        const vit = vitConfig('small', { dim: 256, depth: 1, heads: 4, patchSize: 16, registers: 4 });
        await writeRandomModel(join(folder, 'project', 'models'), 'wide-vit', vit, { name: 'Wide ViT', source: 'test' });
      },
    }));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('makes a curated set, trains from it, and shows its clusters and tiles', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(serve.url);
    await new ProjectPage(page).root.waitFor();
    const train = new TrainPage(page);
    await train.open();
    await train.waitSetup();
    const tiles = train.root.getByTestId('train-tiles');
    expect(await tiles.getAttribute('data-value')).toBe('');
    expect(await train.root.getByTestId('train-tiles-curated').isDisabled()).toBe(true);

    await train.root.getByTestId('train-tiles-curate-open').click();
    await train.root.getByTestId('train-tiles-make').waitFor();
    if (process.env.E2E_SHOTS) await train.root.screenshot({ path: join(process.env.E2E_SHOTS, 'train-curate-form.png') });
    await train.root.getByTestId('train-tiles-count').fill('40');
    await train.root.getByTestId('train-tiles-dedup').fill('0.999');
    await train.root.getByTestId('train-tiles-make').click();
    await train.root.locator('[data-testid="train-tiles"][data-value="curated"]').waitFor({ timeout: 60_000 });
    const summary = train.root.getByTestId('train-tiles-summary');
    expect(await summary.textContent()).toMatch(/40\s*tiles from 3 images/);
    const rows = summary.getByTestId('train-tiles-cluster');
    const after: number[] = [];
    for (const r of await rows.all()) after.push(Number(await r.getAttribute('data-after')));
    expect(after.length).toBeGreaterThan(1);
    expect(after.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
    await summary.getByTestId('train-tiles-sample').first().waitFor();
    expect(await summary.getByTestId('train-tiles-sample').count()).toBeGreaterThanOrEqual(after.length);
    // A mosaic on every cluster's row, and the bars' legend.
    for (const r of await rows.all()) expect(await r.getByTestId('train-tiles-sample').count()).toBeGreaterThan(0);
    expect(await summary.getByTestId('train-tiles-legend').textContent()).toMatch(/before balancing.*picked\s+for training/s);
    expect(await train.root.getByTestId('train-tiles-curated').isChecked()).toBe(true);
    if (process.env.E2E_SHOTS) await train.root.screenshot({ path: join(process.env.E2E_SHOTS, 'train-curated.png') });

    // Back to uniform sampling, then the set again from the list.
    await train.root.getByTestId('train-tiles-uniform').check();
    expect(await tiles.getAttribute('data-value')).toBe('');
    await train.root.getByTestId('train-tiles-set').selectOption('curated');
    expect(await tiles.getAttribute('data-value')).toBe('curated');

    // A short run of a smoke-test ViT from the set: its header says which tiles it trains on from its start
    // (the live run), and so do its header and its row in the run list once it is done (its record).
    await train.choosePreset('quick');
    await train.root.getByTestId('train-from').selectOption(''); // from scratch: the teacher here is for the distillation form
    await train.setSteps(2);
    await train.setAdvanced(TINY_FIELDS, TINY_EXTRA);
    await train.start();
    const data = train.root.getByTestId('train-run-data');
    expect(await data.getAttribute('data-data')).toBe('curated:curated');
    expect(await data.textContent()).toBe('Curated set “curated”');
    await train.waitStatus('done', 120_000);
    const name = await train.runName();
    expect(await data.getAttribute('data-data')).toBe('curated:curated');
    const item = train.root.locator(`[data-testid="train-run-item"][data-run="${name}"] [data-testid="train-run-item-data"]`);
    expect(await item.getAttribute('data-data')).toBe('curated:curated');
    expect(await item.textContent()).toBe('Curated set “curated”');
    if (process.env.E2E_SHOTS) await train.root.screenshot({ path: join(process.env.E2E_SHOTS, 'train-run-curated.png') });
    await train.root.getByTestId('train-new').click();
    await train.waitSetup();
    expect(consoleErrors).toEqual([]);
  });

  it('the distillation form offers the curated set and starts with it', async () => {
    if (skip) return;
    const train = new TrainPage(page);
    await train.root.getByTestId('train-stage-distil').check();
    const setup = train.root.getByTestId('distil-setup');
    await setup.waitFor();
    const tiles = setup.getByTestId('train-tiles');
    expect(await tiles.getAttribute('data-value')).toBe('');
    await setup.getByTestId('train-tiles-curated').check();
    expect(await tiles.getAttribute('data-value')).toBe('curated');
    expect(await setup.getByTestId('train-tiles-cluster').count()).toBeGreaterThan(1);
    if (process.env.E2E_SHOTS) await train.root.screenshot({ path: join(process.env.E2E_SHOTS, 'distil-curated.png') });
    // The set is gone on disk: Start sends its name, and the host refuses it in plain words before any run.
    await rm(join(dir, 'project', 'cache', 'curation', 'curated.json'));
    await setup.getByTestId('distil-start').click();
    const error = setup.getByTestId('distil-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/curated\.json does not exist: make the curated set first/);
    // No run was made: the list holds the pretraining run above only.
    expect(await train.root.getByTestId('train-run-item').count()).toBe(1);
  });
});
