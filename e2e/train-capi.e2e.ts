// CAPI in the Train panel, in Chromium against the serve host with a real training child process: the
// pretrain stage offers the CAPI card beside the DINO + iBOT presets with its one-line explanation; a tiny
// CAPI run (the card's settings shrunk through the advanced fields to a smoke-test ViT: patch 8, dim 32, depth
// 1, 32 px crops, batch 2, K 32, one predictor block) starts, finishes, and its loss chart shows CAPI's terms
// (total, CAPI, clustering; no DINO series), one point per step each; the run's model appears. E2E_SHOTS=<folder>
// saves screenshots of the setup and the finished run.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import { mosaicProjectSession } from './support/mosaic-session.js';
import type { RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';
import { shot } from './support/shots.js';

const skip = chromiumMissing();
const STEPS = 8;
const TINY_FIELDS = { batchSize: 2, globalSize: 32, prototypes: 32, registers: 2 };
const TINY_EXTRA = {
  model: { vit: { patchSize: 8, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  capi: { predictorDepth: 1 },
  runtime: { threads: 1 },
};

describe.skipIf(skip !== null)('Train panel: CAPI (serve host, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ dir, serve, browser, page } = await mosaicProjectSession('train-capi', consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('offers CAPI beside DINO + iBOT, runs a tiny CAPI run and charts its loss', async () => {
    const train = await TrainPage.openOn(page, serve.url);

    // The pretrain stage's cards: the DINO presets and CAPI, which says in one line what it does.
    const names = await train.root
      .locator('[data-testid="train-preset"][data-stage="pretrain"]')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name));
    expect(names).toEqual(expect.arrayContaining(['quick', 'standard', 'capi']));
    expect(await train.preset('capi').textContent()).toMatch(
      /CAPI \(CPU\).*Instead of DINO \+ iBOT: learns by predicting the clusters of hidden patches/,
    );
    await train.preset('capi').scrollIntoViewIfNeeded();
    await train.choosePreset('capi');
    await shot(page, 'train-capi-card');
    expect(await train.root.getByTestId('adv-localCrops').inputValue()).toBe('0');
    await train.setSteps(STEPS);
    await train.setAdvanced(TINY_FIELDS, TINY_EXTRA);
    // CAPI's own estimate (capi/estimate.ts) for these settings: about 100 MB, most of it the sessions' fixed cost.
    await expect.poll(() => train.estimateBytes(), { timeout: 30_000 }).toBeLessThan(200 * 2 ** 20);
    await shot(page, 'train-capi-setup');

    await train.start();
    await train.waitStatus('done', 120_000);
    expect(await train.step()).toBe(STEPS);
    expect(await train.run().textContent()).toMatch(/Pretraining · capi/);
    // The loss chart: CAPI's terms, one point per step each (redrawn from the run's record once it ends).
    await expect.poll(() => train.lossPoints(), { timeout: 30_000 }).toBe(3 * STEPS);
    const keys = await train.root
      .getByTestId('train-loss-chart')
      .getByTestId('chart-key')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.key));
    expect(keys).toEqual(['total', 'capi', 'clustering']);
    expect(await train.root.getByTestId('train-live').getAttribute('data-objective')).toBe('capi');
    await train.root.getByTestId('train-model').waitFor({ timeout: 30_000 });
    await train.preview().waitFor({ timeout: 30_000 });
    await shot(page, 'train-capi-done');
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
