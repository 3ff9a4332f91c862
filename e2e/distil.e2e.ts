// "Distil a small model" in Chromium against the serve host: a model row of the Models panel opens the Train
// panel's distillation form with that model as the teacher; student sizes as wide as the teacher are not
// offered; Start goes through startDistillation, and a student that the core finds not smaller than the
// teacher (a wide but one-block model) is refused before any run starts, with the reason in plain words and
// no run listed. The Train panel's stage radio opens the same form. E2E_SHOTS=<folder> saves screenshots.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitConfig } from '../core/model/config.js';
import { ModelsPage } from './pages/models.js';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import { mosaicProjectSession, writeRandomModel } from './support/mosaic-session.js';
import type { RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';
import { shot } from './support/shots.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('Distil a small model (serve host, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // A 256-wide, one-block model: wider than a Tiny (the form offers Tiny) but with fewer parameters than one.
    const vit = vitConfig('small', { dim: 256, depth: 1, heads: 4, patchSize: 16, registers: 4 });
    ({ dir, serve, browser, page } = await mosaicProjectSession('distil', consoleErrors, {
      prepare: (d) => writeRandomModel(join(d, 'project', 'models'), 'wide-vit', vit, { name: 'Wide ViT', source: 'test' }),
    }));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('a model row opens the distillation form with it as the teacher; the core refuses a student not smaller, in plain words', async () => {
    await page.goto(serve.url);
    await page.getByTestId('project-view').waitFor();
    const models = new ModelsPage(page);
    await models.open();
    await models.row('wide-vit').getByTestId('model-distil').click();
    const train = new TrainPage(page);
    await train.root.waitFor();
    const form = train.root.locator('[data-testid="train-setup"][data-stage="distil"]');
    await form.waitFor();
    const setup = train.root.getByTestId('distil-setup');
    expect(await setup.getByTestId('distil-teacher').inputValue()).toBe('wide-vit');
    expect(await setup.getByTestId('distil-student-tiny').isChecked()).toBe(true);
    expect(await setup.getByTestId('distil-student-tiny').isEnabled()).toBe(true);
    expect(await setup.getByTestId('distil-student-small').isEnabled()).toBe(false);
    expect(await setup.getByTestId('distil-student-base').isEnabled()).toBe(false);
    await shot(page, 'distil-setup');

    await setup.getByTestId('distil-start').click();
    const error = setup.getByTestId('distil-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/a tiny student \([\d.]+ M parameters\) is not smaller than the teacher/);
    expect(await error.textContent()).toMatch(/Pick a smaller student size, or a bigger teacher/);
    expect(await train.root.getByTestId('train-run-item').count()).toBe(0);
    await shot(page, 'distil-refused');

    // The stage radio switches back to pretraining and to distillation again.
    await train.root.getByTestId('train-stage-pretrain').check();
    await train.root.locator('[data-testid="train-setup"][data-stage="pretrain"]').waitFor();
    await train.root.getByTestId('train-stage-distil').check();
    await form.waitFor();
    // The refusal's answer (BAD_INPUT is HTTP 400) is the only thing Chromium logs.
    expect(new Set(consoleErrors)).toEqual(new Set(['Failed to load resource: the server responded with a status of 400 (Bad Request)']));
  }, 240_000);
});
