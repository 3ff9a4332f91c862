// The Train panel's starting model in Chromium against the serve host: with no foundation model the setup
// form starts from scratch and says how to get one; once a model is imported into the project (beside a
// run's own model, which does not count) the form opens on continued pretraining from it, says so, and
// shows the continued-pretraining lr and crops fitted to its patch size (14); choosing Scratch switches the
// text and the defaults back. E2E_SHOTS=<folder> saves screenshots of both screens.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry } from '../core/jobs/registry.js';
import { vitConfig } from '../core/model/config.js';
import { ModelManager } from '../core/model/manager/manager.js';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import { mosaicProjectSession, writeRandomModel } from './support/mosaic-session.js';
import type { RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';
import { shot } from './support/shots.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('Train panel: continued pretraining first (serve host, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ dir, serve, browser, page } = await mosaicProjectSession('route', consoleErrors)); // dir/project, DINOSCOPE_HOME dir/home
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('opens on continued pretraining from an imported model, and on scratch without one', async () => {
    const train = await TrainPage.openOn(page, serve.url);
    const from = train.root.getByTestId('train-from');
    const route = train.root.getByTestId('train-route');
    expect(await from.inputValue()).toBe('');
    expect(await route.getAttribute('data-route')).toBe('scratch');
    expect(await route.textContent()).toMatch(/From scratch \(random weights\): there is no foundation model yet\. Import or download one/);
    await shot(page, 'train-route-none');
    await train.close();

    // A model imported into the project (a DINOv2-like /14 file), and a run's own model beside it.
    const vit = vitConfig('tiny', { patchSize: 14, dim: 32, depth: 1, heads: 2, registers: 2, posEmbed: { gridSize: 4 } });
    await writeRandomModel(join(dir, 'elsewhere'), 'pathology-vit', vit, { name: 'x', source: 'x' });
    const project = join(dir, 'project');
    const models = new ModelManager({ projectDir: () => project, jobs: new JobRegistry() });
    const imported = await models.importPath(join(dir, 'elsewhere', 'pathology-vit'), { location: 'project', name: 'Pathology ViT' });
    await writeRandomModel(join(project, 'models'), 'old-run', vit, { name: 'old-run (step 9)', source: 'run:old-run@9' });

    await train.openSetup();
    expect(await from.inputValue()).toBe(imported.id);
    expect(await route.getAttribute('data-route')).toBe('continued');
    expect(await route.textContent()).toMatch(/Continued pretraining from Pathology ViT: student and teacher start from its weights/);
    const groups = await from
      .locator('optgroup')
      .evaluateAll((els) =>
        els.map((g) => `${g.getAttribute('label')}: ${Array.from(g.querySelectorAll('option'), (o) => o.value).join(',')}`),
      );
    expect(groups).toEqual([
      `Foundation models (continued pretraining): ${imported.id}`,
      'Other models (trained or initialised here): old-run',
    ]);
    const adv = train.root.getByTestId('train-advanced');
    if ((await adv.getAttribute('open')) === null) await adv.locator('summary').click();
    expect(Number(await train.root.getByTestId('adv-baseLr').inputValue())).toBe(0.001);
    expect(Number(await train.root.getByTestId('adv-localSize').inputValue())).toBe(42);
    expect(Number(await train.root.getByTestId('adv-globalSize').inputValue())).toBe(112);
    await shot(page, 'train-route-continued');

    await from.selectOption('');
    expect(await route.getAttribute('data-route')).toBe('scratch');
    expect(await route.textContent()).toMatch(
      /From scratch \(random weights\)\. Continuing the pretraining of Pathology ViT learns far more/,
    );
    expect(Number(await train.root.getByTestId('adv-baseLr').inputValue())).toBe(0.004);
    expect(Number(await train.root.getByTestId('adv-localSize').inputValue())).toBe(48);
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
