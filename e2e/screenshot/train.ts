// Takes the README screenshot of the Train panel (docs/train-panel.png): `npx tsx e2e/screenshot/train.ts`.
// Builds the CLI and renderer, writes three texture mosaics into a project, starts a short run of the
// Quick preset on a small model through the panel (resuming it if a collapse alert pauses it), health every 10 steps,, and
// captures the live panel near the run's end with the pointer over the loss chart (the hover readout showing).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMosaics } from '../../core/analysis/fixture.js';
import { importedProject } from '../../core/app/fixture-service.js';
import { TrainPage } from '../pages/train.js';
import { launchChromium } from '../support/browser.js';
import { buildCliAndRenderer } from '../support/build.js';
import { startServe } from '../support/serve.js';

const out = process.argv[2] ?? 'docs/train-panel.png';
const steps = Number(process.env.SHOT_STEPS ?? 100);

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-shot-train-'));
try {
  const paths = await writeMosaics(join(dir, 'slides'), 3, { side: 512, stride: 16, dim: 8 });
  await (await importedProject(dir, paths)).service.close(); // dir/project, DINOSCOPE_HOME dir/home
  buildCliAndRenderer();
  const serve = await startServe(join(dir, 'project'), join(dir, 'home'));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(serve.url);
    await page.getByTestId('project-view').waitFor();
    const train = new TrainPage(page);
    await train.open();
    await train.waitSetup();
    await train.choosePreset('quick');
    await train.setSteps(steps);
    await train.setAdvanced(
      { batchSize: 4, globalSize: 48, localSize: 24, localCrops: 2, prototypes: 1024, registers: 2 },
      {
        model: { vit: { patchSize: 8, dim: 48, depth: 2, heads: 3, posEmbed: { gridSize: 6 } } },
        head: { hidden: 64, bottleneck: 32 },
        health: { every: 10 },
        runtime: { threads: 1 },
      },
    );
    await train.estimateBytes();
    await train.root.getByTestId('train-name').fill('mosaic-quick');
    await train.start();
    // Should a collapse alert pause the run, carry on: the shot is of a run in progress.
    const target = Math.floor(steps * 0.75);
    while ((await train.step()) <= target) {
      const alert = train.root.getByTestId('train-alert-resume');
      if (await alert.isVisible()) await alert.click();
      await page.waitForTimeout(500);
    }
    await train.root.getByTestId('train-alert').waitFor({ state: 'detached' });
    await train.waitStatus('running');
    await train.preview().waitFor();
    const chart = train.root.getByTestId('train-loss-chart').locator('svg');
    const box = await chart.boundingBox();
    if (box) await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
    await page.waitForTimeout(300);
    await page.screenshot({ path: out });
    process.stderr.write(`screenshot: wrote ${out}\n`);
    await train.root
      .getByTestId('train-stop')
      .click()
      .catch(() => undefined);
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
