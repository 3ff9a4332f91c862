// "Distil a small model" in Chromium against the serve host: a model row of the Models panel opens the Train
// panel's distillation form with that model as the teacher; student sizes as wide as the teacher are not
// offered; Start goes through startDistillation, and a student that the core finds not smaller than the
// teacher (a wide but one-block model) is refused before any run starts, with the reason in plain words and
// no run listed, and the form's estimate line says so before Start. With a teacher the students can be
// smaller than, the form states the memory at peak and then the time of one distillation step measured on
// this computer, before Start. The Train panel's stage radio opens the same form. E2E_SHOTS=<folder> saves screenshots.
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
    // Four blocks of 384: more parameters than a Tiny, so a Tiny student is accepted (and cheap to time).
    const deep = vitConfig('small', { depth: 4, patchSize: 16, registers: 4 });
    ({ dir, serve, browser, page } = await mosaicProjectSession('distil', consoleErrors, {
      prepare: async (d) => {
        await writeRandomModel(join(d, 'project', 'models'), 'wide-vit', vit, { name: 'Wide ViT', source: 'test' });
        await writeRandomModel(join(d, 'project', 'models'), 'small-4', deep, { name: 'Small 4 blocks', source: 'test' });
      },
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
    // The estimate asks the core before Start, and the core's refusal shows there already.
    await expect
      .poll(() => setup.getByTestId('distil-estimate').textContent(), { timeout: 20_000 })
      .toMatch(/Estimate unavailable: .*a tiny student \([\d.]+ M parameters\) is not smaller than the teacher/);
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

    // A teacher the Tiny is smaller than: memory at once, then the measured time of a step, before Start.
    await setup.getByTestId('distil-teacher').selectOption('small-4');
    await setup.locator('input[name="distil-budget"][value="steps"]').check();
    await setup.getByTestId('distil-steps').fill('50');
    const memory = setup.getByTestId('distil-estimate');
    await expect
      .poll(() => memory.textContent(), { timeout: 20_000 })
      .toMatch(/\d+(\.\d+)? [MG]B of memory at peak \(teacher and students\)/);
    expect(Number(await memory.getAttribute('data-bytes'))).toBeGreaterThan(0);
    const time = setup.getByTestId('distil-time');
    await expect.poll(() => time.getAttribute('data-state'), { timeout: 120_000, interval: 500 }).toBe('measured');
    expect(await time.textContent()).toMatch(/^About .+ on this computer \(.+ a step, measured here; .+ to start\)\.$/);
    expect(Number(await time.getAttribute('data-seconds'))).toBeGreaterThan(0);
    await shot(page, 'distil-estimate');
    expect(await train.root.getByTestId('train-run-item').count()).toBe(0); // nothing started
    // The refusal's answer (BAD_INPUT is HTTP 400) is the only thing Chromium logs.
    expect(new Set(consoleErrors)).toEqual(new Set(['Failed to load resource: the server responded with a status of 400 (Bad Request)']));
  }, 240_000);
});
