// The Train panel in Chromium against the serve host, with a real training child process: a project of
// three generated texture mosaics (core/analysis/fixture.ts), the Quick preset shrunk through the advanced
// settings to a smoke-test ViT (patch 8, dim 32, depth 1, 32 px crops, batch 2, K 32) so a run takes
// seconds. The form opens on a 10-minute budget; with a step budget the time it takes on this computer shows
// before Start (one step of these settings timed by the host); after Start the header says what the run does
// before its first step. Start and Pause → the counter holds; Resume → it advances and the loss chart gets points; the
// run ends 'done' with its teacher PCA preview; its model opens the Extract panel preselected; reopening
// the panel redraws the curves from trainingHistory; the model is in the Models panel, whose "Adapt to high
// resolution" opens the adapt setup with its presets and memory estimate; a run whose loss turns NaN shows
// the alert (the run is paused) and Stop ends it. The run's model maps attention over the visible part of a
// slide as a job whose progress (tiles of the region) shows under the Extract panel's button and in the job
// bar. A finished run continues for more minutes from its checkpoint ("Continue for N min"). E2E_SHOTS=<folder>
// saves screenshots of these screens.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { ModelsPage } from './pages/models.js';
import { ProjectPage } from './pages/project.js';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';
import { shot } from './support/shots.js';

const skip = chromiumMissing();
/** Saves a screenshot when E2E_SHOTS names a folder (to look at the screens). */
const STEPS = 16;
/** The smoke-test model beyond the advanced fields (as `dinoscope pretrain --tiny`). */
const TINY_EXTRA = {
  model: { vit: { patchSize: 8, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  head: { hidden: 32, bottleneck: 16 },
  runtime: { threads: 1 },
};
const TINY_FIELDS = { batchSize: 2, globalSize: 32, localSize: 16, localCrops: 2, prototypes: 32, registers: 2 };

describe.skipIf(skip !== null)('Train panel (serve host, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let paths: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-train-'));
    paths = await writeMosaics(join(dir, 'slides'), 3, { side: 256, stride: 16, dim: 8 });
    await (await importedProject(dir, paths)).service.close(); // dir/project, DINOSCOPE_HOME dir/home
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('starts a run, pauses and resumes it, shows curves and the preview, and registers its model', async () => {
    const train = await TrainPage.openOn(page, serve.url);

    // Hardware: this machine has no GPU, so the run uses the CPU with its thread count.
    const hw = train.root.getByTestId('train-hardware');
    expect(await hw.getAttribute('data-selected')).toBe('cpu');
    expect(await hw.textContent()).toMatch(/CPU, \d+ threads?/);
    const providers = await hw
      .getByTestId('train-provider')
      .evaluateAll((els) => els.map((e) => ({ available: (e as HTMLElement).dataset.available, title: e.getAttribute('title') ?? '' })));
    expect(providers.some((p) => p.available === 'true')).toBe(true);
    // Providers this host lacks (GPU ones here) are greyed with the reason.
    for (const p of providers.filter((x) => x.available === 'false')) expect(p.title).not.toBe('');
    // Each of them also has a line in plain words (what is missing, that the CPU runs instead, what to do),
    // the probe's raw reason hidden behind "details" until opened.
    const notes = hw.getByTestId('train-provider-note');
    expect(await notes.count()).toBe(providers.filter((x) => x.available === 'false').length);
    for (const note of await notes.all()) {
      const text = (await note.getByTestId('train-provider-note-text').textContent()) ?? '';
      expect(text).toMatch(/\. Dinoscope runs on the CPU instead\. [A-Z].+\.$/);
      expect(text).not.toMatch(/onnxruntime_src|ONNXRuntimeError|\.cc:\d|unavailable \(/);
      const raw = note.getByTestId('train-provider-detail');
      expect(await raw.isVisible()).toBe(false);
      await note.getByTestId('train-provider-details').click();
      expect(await raw.isVisible()).toBe(true);
      expect(await raw.textContent()).toMatch(/unavailable \(|not in this onnxruntime build|not probed/);
    }
    await shot(page, 'train-hardware-notes');
    // Where each part runs: all on the CPU here; the Quick preset (sized for the CPU) gets no slow warning,
    // the Standard one (sized for a GPU) says it trains on the CPU.
    await train.choosePreset('quick');
    const parts = await hw
      .getByTestId('train-device-part')
      .evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.part}:${(e as HTMLElement).dataset.provider}`));
    expect(parts).toEqual(['training:cpu', 'crops:cpu', 'extraction:cpu']);
    // Training's precision: fp32 on the CPU (mixed precision needs a GPU that runs float16).
    const trainingPart = hw.locator('[data-testid="train-device-part"][data-part="training"]');
    expect(await trainingPart.getAttribute('data-precision')).toBe('fp32');
    expect(await trainingPart.textContent()).toMatch(/CPU, \d+ threads?, fp32/);
    expect(await hw.getByTestId('train-slow-warning').count()).toBe(0);
    await train.choosePreset('standard');
    expect(await hw.getByTestId('train-slow-warning').textContent()).toMatch(
      /^Standard.* trains on the CPU here, without a GPU: .*It is sized for a GPU; a CPU-sized preset is faster on this computer\.$/,
    );
    await shot(page, 'train-hardware-slow');
    // Presets of the pretrain stage, each with its summary.
    await train.preset('quick').waitFor();
    expect(await train.preset('quick').textContent()).toMatch(/CPU/);
    expect(await train.root.locator('[data-testid="train-preset"][data-stage="adapt"]').count()).toBe(0);

    // A time budget by default: 10 minutes.
    expect(await train.root.getByTestId('train-budget-minutes').isChecked()).toBe(true);
    expect(Number(await train.root.getByTestId('train-minutes').inputValue())).toBe(10);

    await train.choosePreset('quick');
    await train.setSteps(STEPS);
    await train.setAdvanced(TINY_FIELDS, TINY_EXTRA);
    expect(await train.estimateBytes()).toBeGreaterThan(0);
    expect(await train.root.getByTestId('train-estimate').textContent()).toMatch(/This needs ~\d+(\.\d)? [MG]B/);
    // Before Start: how long the step budget takes here, from one step of these settings timed by the host.
    const time = await train.measuredTime();
    expect(time.seconds).toBeGreaterThan(0);
    expect(time.text).toMatch(
      /^About \d+ (s|min|h)( \d+ min)? on this computer \([\d.]+ m?s a step, measured here; \d+ (s|min) to start\)\.$/,
    );
    await shot(page, 'train-setup-time');

    // Start: before step 1 the header says what the run is doing (starting the child, loading the images,
    // building the training graph, …), with the counter at 0.
    await train.start();
    const starting = train.root.getByTestId('train-starting');
    await starting.waitFor();
    expect(await starting.textContent()).toMatch(/^Starting: [a-z ]+…$/);
    expect(await train.root.getByTestId('train-step').textContent()).toMatch(/^0 \/ 16 · starting…$/);
    await shot(page, 'train-starting');

    // Pause at once: the child is still starting (seconds) while the whole run takes about one, so the pause
    // lands at the gate before a step whatever the machine's load, and the counter must hold there.
    const name = await train.runName();
    await train.pause();
    await train.waitStatus('paused');
    const paused = await train.step();
    expect(paused).toBeLessThan(STEPS);
    await page.waitForTimeout(1500);
    expect(await train.step()).toBe(paused);
    expect(await train.status()).toBe('paused');

    // Resume: the counter advances and the loss chart gets points while the run is live.
    await train.resume();
    const seen = await train.waitStepAbove(paused);
    expect(seen).toBeGreaterThan(paused);
    await expect.poll(() => train.lossPoints()).toBeGreaterThan(0);
    await train.waitStatus('done', 60_000);
    expect(await train.step()).toBe(STEPS);
    // One point per step for each of total, DINO, iBOT and KoLeo (no Gram in pretraining): live steps come
    // throttled, the panel redraws from the run's record once it ends.
    await expect.poll(() => train.lossPoints()).toBe(4 * STEPS);
    await train.preview().waitFor({ timeout: 30_000 });
    // The run says what it trained in (its record), beside the preset.
    expect(await train.root.getByTestId('train-run-precision').textContent()).toBe('fp32');
    await shot(page, 'train-done');
    expect(await train.preview().locator('img').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const model = train.root.getByTestId('train-model');
    await model.waitFor({ timeout: 30_000 });
    const modelId = (await model.getAttribute('data-model-id'))!;
    expect(modelId).not.toBe('');

    // "Extract features with this model" opens the Extract panel with the run's model chosen.
    await model.getByTestId('train-extract').click();
    await train.root.waitFor({ state: 'detached' });
    const extract = page.getByTestId('extract-panel');
    await expect.poll(() => extract.getByTestId('extract-model').inputValue()).toBe(modelId);
    await extract.getByRole('button', { name: 'Close' }).click();
    await extract.waitFor({ state: 'detached' });

    // Attention maps of the visible slide with the run's model: a job with progress over the region's tiles,
    // under the panel's button and in the job bar, recorded as the page draws them.
    await new ProjectPage(page).card(basename(paths[0])).click();
    await page.getByTestId('extract-button').click();
    await expect.poll(() => extract.getByTestId('extract-model').inputValue()).toBe(modelId);
    await extract.getByTestId('attention-region').waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { mapsSeen: string[] };
      w.mapsSeen = [];
      new MutationObserver(() => {
        for (const el of Array.from(document.querySelectorAll('[data-testid="attention-progress"]')))
          w.mapsSeen.push(`panel ${el.getAttribute('data-done')}/${el.getAttribute('data-total')}`);
        for (const el of Array.from(document.querySelectorAll('[data-testid="job"][data-kind="attention-maps"]')))
          w.mapsSeen.push(`bar ${el.getAttribute('data-state')} ${el.querySelector('[data-testid="job-cancel"]') ? 'cancel' : ''}`);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await extract.getByTestId('attention-start').click();
    await extract
      .getByTestId('attention-progress')
      .waitFor({ timeout: 10_000 })
      .then(
        () => shot(page, 'attention-progress'),
        () => undefined,
      );
    await page.locator('[data-testid="layer"][data-layer-id="attention"]').waitFor({ timeout: 60_000 });
    const mapsSeen = await page.evaluate(() => (window as unknown as { mapsSeen: string[] }).mapsSeen);
    // 256 px at 8 px a patch: 32 × 32 patches, four model tiles of 16 × 16.
    expect(mapsSeen.filter((s) => /^panel \d+\/4$/.test(s)).length).toBeGreaterThan(0);
    expect(mapsSeen).toContain('bar running cancel');
    await extract.getByRole('button', { name: 'Close' }).click();
    await extract.waitFor({ state: 'detached' });

    // Reopened, the panel shows the finished run with its curves from trainingHistory.
    await train.open();
    await train.root.locator(`[data-testid="train-run"][data-run="${name}"][data-status="done"]`).waitFor();
    await expect.poll(() => train.lossPoints()).toBe(4 * STEPS);
    expect(
      await train.root.locator(`[data-testid="train-run-item"][data-run="${name}"] [data-testid="run-badge"]`).getAttribute('data-status'),
    ).toBe('done');
    // Which tiles it trained on, in the run's header and its row: the form's default, every image's tissue.
    expect(await train.root.getByTestId('train-run-data').getAttribute('data-data')).toBe('uniform');
    expect(await train.root.getByTestId('train-run-data').textContent()).toBe('All tissue, uniformly');
    expect(
      await train.root.locator(`[data-testid="train-run-item"][data-run="${name}"] [data-testid="train-run-item-data"]`).textContent(),
    ).toBe('All tissue, uniformly');
    await train.close();

    // The run's model is in the Models panel, offering high-resolution adaptation, which opens the setup.
    const models = new ModelsPage(page);
    await models.open();
    await models.row(modelId).waitFor();
    await models.row(modelId).getByTestId('model-adapt').click();
    const setup = await train.waitSetup();
    expect(await page.getByTestId('models-panel').count()).toBe(0);
    expect(await setup.getAttribute('data-stage')).toBe('adapt');
    expect(await train.root.getByTestId('train-from').inputValue()).not.toBe('');
    // Its presets are the adapt ones, and the memory need of adapting this model shows before a start.
    await train.preset('adapt-cpu').waitFor();
    expect(await train.root.locator('[data-testid="train-preset"][data-stage="pretrain"]').count()).toBe(0);
    expect(await train.estimateBytes()).toBeGreaterThan(0);
    await train.close();
    await page.waitForTimeout(1000);
    expect(await train.root.count()).toBe(0);
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it('keeps New run on screen when the run list arrives after the click (a slow host)', async () => {
    await page.goto(serve.url);
    await page.getByTestId('project-view').waitFor();
    // Hold the panel's first run list until "+ New run" was clicked: opening the panel must not then
    // switch to the latest run (the project has one from the first test) over the user's choice.
    let release!: () => void;
    const clicked = new Promise<void>((r) => (release = r));
    let held = 0;
    let answered!: () => void;
    const listed = new Promise<void>((r) => (answered = r));
    await page.route('**/api/call/trainingRuns', async (route: Route) => {
      const first = held++ === 0;
      if (first) await clicked;
      await route.continue();
      if (first) answered();
    });
    const train = new TrainPage(page);
    await train.open();
    await train.root.getByTestId('train-new').click();
    release();
    await listed;
    await page.waitForTimeout(500); // the panel has had the list and its chance to switch
    await train.waitSetup();
    expect(await train.root.getByTestId('train-new').getAttribute('aria-current')).toBe('page');
    await page.unroute('**/api/call/trainingRuns');
    await train.close();
  });

  it('shows the NaN alert with the run paused; Stop ends it', async () => {
    const train = await TrainPage.openOn(page, serve.url, { newRun: true });
    await train.choosePreset('quick');
    await train.setSteps(50);
    await train.setAdvanced({ ...TINY_FIELDS, baseLr: 1e12 }, { ...TINY_EXTRA, optim: { clipGrad: 1e30, warmupFraction: 0 } });
    await train.start();
    const alert = train.root.getByTestId('train-alert');
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.getAttribute('data-kind')).toBe('nan');
    expect(await alert.getAttribute('role')).toBe('alert');
    // Resume anyway waits for the pause the alert announces (the host refuses a resume before it).
    await alert.locator('[data-testid="train-alert-paused"][data-paused="true"]').waitFor();
    expect(await alert.textContent()).toMatch(/A loss turned NaN at step \d+\..*The run is paused\./s);
    expect(await alert.getByTestId('train-alert-resume').isEnabled()).toBe(true);
    await alert.getByTestId('train-alert-stop').click();
    await train.waitStatus('stopped');
    await alert.waitFor({ state: 'detached' });
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it('continues a finished run for more minutes from its checkpoint', async () => {
    const train = await TrainPage.openOn(page, serve.url, { newRun: true });
    await train.choosePreset('quick');
    await train.setSteps(3);
    await train.setAdvanced(TINY_FIELDS, TINY_EXTRA);
    await train.start();
    await train.waitStatus('done');
    expect(await train.step()).toBe(3);
    // Only a finished run offers it; the minutes are checked before the button takes them.
    const minutes = train.root.getByTestId('train-continue-minutes');
    await minutes.fill('0');
    expect(await train.root.getByTestId('train-continue').isDisabled()).toBe(true);
    await minutes.fill('0.1');
    expect(await train.root.getByTestId('train-continue').textContent()).toBe('Continue for 0.1 min');
    await shot(page, 'train-continue');
    await train.root.getByTestId('train-continue').click();
    await train.waitStatus('running');
    expect(await train.root.getByTestId('train-continue').count()).toBe(0);
    await train.waitStatus('done', 90_000);
    // The same run went on: its step counter past 3, its total where it ended.
    const run = train.run();
    const [step, total] = [Number(await run.getAttribute('data-step')), Number(await run.getAttribute('data-total'))];
    expect(step).toBeGreaterThan(3);
    expect(total).toBe(step);
    await shot(page, 'train-continued');
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
