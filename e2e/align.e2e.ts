// "Align text (LiT)…" in Chromium against the serve host: two texture mosaics, a tiny random DINOv3
// backbone without a text tower, and a pairs CSV of regions captioned with their texture. From the
// model's row in the Models panel the pairs field says what is wrong with a relative or missing path, the
// dialog names the bad rows of a broken pairs file and keeps Start off, and a number field says under it
// what is wrong with its number (below the minimum, not whole); with the pairs chosen in the host's
// file browser (files of other types not selectable, nothing confirmed before a file is) it states the
// estimate, runs a tiny alignment (a 32-wide one-block tower, 30 steps) with progress and says it
// finished; the model then shows its text tower, and features extracted with it afterwards enable the Find
// similar panel's text box.
// Screenshots go to $E2E_SHOTS when it is set.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textureAt, writeMosaics } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import type { ModelInfo } from '../core/common/api.js';
import { vitConfig } from '../core/model/config.js';
import { AlignPage } from './pages/align.js';
import { FileBrowserPage } from './pages/file-browser.js';
import { ModelsPage } from './pages/models.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();
const shots = process.env.E2E_SHOTS;
const vocab = fileURLToPath(new URL('../core/model/text/fixtures/tiny-vocab.txt.gz', import.meta.url));
const CAPTIONS = ['pink stripes', 'blue checker', 'purple dots', 'brown diagonal stripes'];

describe.skipIf(skip !== null)('Align text (LiT) in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  let modelId: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-align-'));
    const r = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 2, { side: 128, stride: 4, dim: 8 }));
    names = r.names;
    const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: 4, registers: 2 });
    modelId = (await r.service.models.initRandom(vit, 5, { name: 'tiny lit', location: 'project' })).id;
    await r.service.close();
    const lines = ['image,x,y,width,height,caption'];
    for (const [i, name] of names.entries())
      for (let q = 0; q < 4; q++) {
        const [qx, qy] = [(q % 2) * 64, Math.floor(q / 2) * 64];
        const caption = CAPTIONS[textureAt(i, qx / 4, qy / 4, 32)];
        for (let k = 0; k < 4; k++) lines.push(`${name},${qx + 8 * k},${qy + 4 * k},24,24,"${caption}"`);
      }
    await mkdir(join(dir, 'captions'));
    await writeFile(join(dir, 'captions', 'pairs.csv'), `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'captions', 'notes.txt'), 'not a pairs file\n');
    await writeFile(
      join(dir, 'captions', 'bad.csv'),
      `image,x,y,width,height,caption\n${names[0]},0,0,16,16,pink stripes\nnope.png,0,0,16,16,dots\n${names[1]},0,0,16,16,\n`,
    );
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
    await page.setViewportSize({ width: 1280, height: 860 });
    if (shots) await mkdir(shots, { recursive: true });
    await page.goto(serve.url);
    await new ProjectPage(page).root.waitFor();
  }, 120_000);

  afterAll(() => endSession({ browser, serve }, dir));

  it('opens from the model, names the bad rows of a pairs file and keeps Start off', async () => {
    if (skip) return;
    const models = new ModelsPage(page);
    await models.open();
    expect(await models.row(modelId).getAttribute('data-text-tower')).toBe('false');
    await models.row(modelId).getByTestId('model-align').click();
    const align = new AlignPage(page);
    await align.root.waitFor();
    expect(await align.start.isDisabled()).toBe(true);
    await expect(align.root.getByTestId('align-needs').textContent()).resolves.toBe('Choose a pairs file.');
    // The path field says in plain words what is wrong with a path before anything is estimated.
    await align.field('pairs').fill('pairs.csv');
    await expect.poll(() => align.problem('pairs').textContent(), { timeout: 10_000 }).toMatch(/^Type a full path/);
    await align.field('pairs').fill(join(dir, 'captions', 'nope.csv'));
    await expect
      .poll(() => align.problem('pairs').textContent(), { timeout: 10_000 })
      .toBe(`There is no file nope.csv in ${join(dir, 'captions')}: check the name, or choose the file with Choose….`);
    await align.field('pairs').fill(join(dir, 'captions', 'bad.csv'));
    await align.problem('pairs').waitFor({ state: 'detached', timeout: 10_000 });
    await align.field('vocab').fill(vocab);
    const error = align.root.getByTestId('align-error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toMatch(/2 bad rows: row 3: no image "nope\.png" in the project; row 4: empty caption/);
    expect(await align.start.isDisabled()).toBe(true);
    if (shots) await page.screenshot({ path: join(shots, 'align-bad-rows.png') });
    // A number the run cannot take is said under its field in plain words (NumberField), and goes away once fixed.
    const steps = align.root.getByTestId('align-steps');
    await steps.fill('0');
    expect(await align.root.getByTestId('align-steps-problem').textContent()).toBe('Steps must be at least 1.');
    await align.root.getByTestId('align-text-depth').fill('1.5');
    expect(await align.root.getByTestId('align-text-depth-problem').textContent()).toBe("The text tower's blocks must be a whole number.");
    expect(await align.start.isDisabled()).toBe(true);
    if (shots) await page.screenshot({ path: join(shots, 'align-number-problems.png') });
    await steps.fill('200');
    await align.root.getByTestId('align-text-depth').fill('4');
    await align.root.getByTestId('align-steps-problem').waitFor({ state: 'detached' });
    await align.root.getByTestId('align-text-depth-problem').waitFor({ state: 'detached' });
  });

  it('estimates, runs a tiny alignment with progress, says it finished, and the model has a text tower', async () => {
    if (skip) return;
    const align = new AlignPage(page);
    // The file browser of a file field offers the field's type only, and waits for one file.
    await align.root.getByTestId('align-pairs-choose').click();
    const fb = new FileBrowserPage(page);
    await fb.root.waitFor();
    await fb.goTo(join(dir, 'captions'));
    expect(await fb.entry('notes.txt').isDisabled()).toBe(true);
    expect(await fb.entry('pairs.csv').isEnabled()).toBe(true);
    const confirm = fb.root.getByTestId('fb-confirm');
    expect([await confirm.isDisabled(), await confirm.textContent()]).toEqual([true, 'Use this file']);
    await fb.root.getByTestId('fb-cancel').click();
    await fb.root.waitFor({ state: 'detached' });
    await align.choose('pairs', join(dir, 'captions'), 'pairs.csv');
    expect(await align.field('pairs').inputValue()).toBe(join(dir, 'captions', 'pairs.csv'));
    await align.field('steps').fill('30');
    await align.field('text-dim').fill('32');
    await align.field('text-depth').fill('1');
    const estimate = align.root.locator('[data-testid="align-estimate"][data-pairs="32"]');
    await estimate.waitFor({ timeout: 30_000 });
    expect(await estimate.textContent()).toMatch(/32 pairs from 2 images, 4 captions · a new text tower \(32 wide, 1 block\) · 30 steps/);
    await expect.poll(() => align.start.isDisabled(), { timeout: 10_000 }).toBe(false);
    if (shots) await page.screenshot({ path: join(shots, 'align-ready.png') });

    await align.start.click();
    const progress = align.root.getByTestId('align-progress');
    await progress.waitFor({ timeout: 30_000 });
    if (shots) await page.screenshot({ path: join(shots, 'align-running.png') });
    const done = align.root.getByTestId('align-done');
    await done.waitFor({ timeout: 180_000 });
    expect(await done.textContent()).toMatch(
      /tiny lit has a text tower now .*30\s+steps.*Extract features with tiny lit again: feature sets extracted with it from now on answer the Find similar panel's text box\.\s+Sets extracted before this alignment answer image queries only/s,
    );
    expect(await align.root.getByTestId('align-error').count()).toBe(0);
    if (shots) await page.screenshot({ path: join(shots, 'align-done.png') });

    const models = new ModelsPage(page);
    await models.root.locator(`[data-testid="model-row"][data-id="${modelId}"][data-text-tower="true"]`).waitFor({ timeout: 10_000 });
    await models.row(modelId).getByTestId('model-text-tower').waitFor();
    const listed = (await callApi<ModelInfo[]>(serve, 'listModels')).find((m) => m.id === modelId);
    expect(listed?.textTower?.source).toBe('dinoscope align on pairs.csv');
  });

  it('features extracted with the aligned model afterwards enable the text box', async () => {
    if (skip) return;
    await page.getByTestId('align-close').click();
    await page.getByTestId('models-close').click();
    await callApi(serve, 'extractFeatures', { modelId, level: 0, mask: 'off', activate: true });
    await page.reload();
    const projectPage = new ProjectPage(page);
    await projectPage.root.waitFor();
    await projectPage.card(names[0]).click();
    await new ViewerPage(page).waitReady();
    await expect.poll(() => page.getByTestId('text-query').isDisabled(), { timeout: 30_000 }).toBe(false);
    if (shots) await page.screenshot({ path: join(shots, 'align-text-box.png') });
    // The bad pairs file's estimate answered 400 (BAD_INPUT) on purpose; nothing else may fail.
    expect(new Set(consoleErrors)).toEqual(new Set(['Failed to load resource: the server responded with a status of 400 (Bad Request)']));
  });
});
