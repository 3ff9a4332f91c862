// Screenshots of every dialog, to compare before and after a change to their look:
// `npx tsx e2e/screenshot/dialogs.ts OUT_DIR [OTHER_DIR]`. Builds the CLI and renderer, writes two texture
// mosaics into a project with a tiny random model and synthetic features, and captures the Models panel,
// Align text (LiT) (empty, then with missing files typed), the host's file browser over it, Export (also
// with a file typed as its folder, and its folder browser), Extract, Train and the Import browser, one PNG
// each. Given OTHER_DIR (an earlier run's folder), it then counts per screenshot the pixels that differ from
// the one of the same name there and prints them as JSON. SHOT_NO_BUILD=1 skips the build.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../../core/analysis/fixture.js';
import { importedProject } from '../../core/app/fixture-service.js';
import { vitConfig } from '../../core/model/config.js';
import { FileBrowserPage } from '../pages/file-browser.js';
import { ModelsPage } from '../pages/models.js';
import { ProjectPage } from '../pages/project.js';
import { ViewerPage } from '../pages/viewer.js';
import { launchChromium } from '../support/browser.js';
import { buildCliAndRenderer } from '../support/build.js';
import { startServe } from '../support/serve.js';

const [out, other] = process.argv.slice(2);
if (!out) {
  process.stderr.write('usage: npx tsx e2e/screenshot/dialogs.ts OUT_DIR [OTHER_DIR]\n');
  process.exit(2);
}
const SPEC: MosaicSpec = { side: 256, stride: 16, dim: 8 };

async function capture(page: Page, name: string): Promise<void> {
  // The pointer away from every button, and a moment for focus rings and transitions to settle.
  await page.mouse.move(1, 1);
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(out, `${name}.png`) });
}

async function differing(a: string, b: string): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((p) => sharp(p).raw().toBuffer({ resolveWithObject: true })));
  if (x.info.width !== y.info.width || x.info.height !== y.info.height) return -1;
  let n = 0;
  for (let i = 0; i < x.data.length; i += x.info.channels) {
    for (let c = 0; c < x.info.channels; c++)
      if (x.data[i + c] !== y.data[i + c]) {
        n++;
        break;
      }
  }
  return n;
}

await mkdir(out, { recursive: true });
const dir = await mkdtemp(join(tmpdir(), 'dinoscope-shot-dialogs-'));
try {
  const paths = await writeMosaics(join(dir, 'slides'), 2, SPEC);
  const r = await importedProject(dir, paths);
  await writeSyntheticFeatures(r.service.requireProject(), r.ids, SPEC);
  const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: 4, registers: 2 });
  const modelId = (await r.service.models.initRandom(vit, 5, { name: 'tiny', location: 'project' })).id;
  await r.service.close();
  if (!process.env.SHOT_NO_BUILD) buildCliAndRenderer();
  // HOME: where the host's file browser starts, so its listing is the same on every run.
  const serve = await startServe(join(dir, 'project'), join(dir, 'home'), { HOME: join(dir, 'slides') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(r.names[0]).click();
    await new ViewerPage(page).waitReady();

    const models = new ModelsPage(page);
    await models.open();
    await capture(page, 'models');
    await models.row(modelId).getByTestId('model-align').click();
    const align = page.getByTestId('align-dialog');
    await align.waitFor();
    await capture(page, 'align');
    await align.getByTestId('align-pairs').fill(join(dir, 'no-such.csv'));
    await align.getByTestId('align-vocab').fill(join(dir, 'no-such.txt.gz'));
    await align.getByTestId('align-error').waitFor({ timeout: 30_000 });
    await capture(page, 'align-error');
    await align.getByTestId('align-pairs-choose').click();
    const fb = new FileBrowserPage(page);
    await fb.root.waitFor();
    await fb.goTo(join(dir, 'slides'));
    await capture(page, 'align-browse');
    await page.getByTestId('fb-cancel').click();
    await page.getByTestId('align-close').click();
    await page.getByTestId('models-close').click();

    await page.getByTestId('export-button').click();
    await page.getByTestId('export-dialog').waitFor();
    await capture(page, 'export');
    await page.getByTestId('export-dir').fill(paths[0]);
    await page.getByTestId('export-dir-problem').waitFor({ timeout: 30_000 });
    await capture(page, 'export-error');
    await page.getByTestId('export-dir').fill('');
    await page.getByTestId('export-browse').click();
    await fb.root.waitFor();
    await fb.goTo(join(dir, 'slides'));
    await capture(page, 'export-browse');
    await page.getByTestId('fb-cancel').click();
    await page.keyboard.press('Escape');

    await page.getByTestId('extract-button').click();
    await page.getByTestId('extract-panel').waitFor();
    await page.getByTestId('extract-estimate').waitFor({ timeout: 30_000 });
    await capture(page, 'extract');
    await page.keyboard.press('Escape');

    await page.getByTestId('train-button').click();
    await page.getByTestId('train-panel').waitFor();
    await page.getByTestId('train-setup').waitFor({ timeout: 30_000 });
    await capture(page, 'train');
    await page.getByTestId('train-close').click();

    await project.openImportDialog();
    await fb.goTo(join(dir, 'slides'));
    await capture(page, 'import-browse');
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

if (other) {
  const counts: Record<string, number> = {};
  for (const f of (await readdir(out)).filter((f) => f.endsWith('.png')).sort())
    counts[f] = await differing(join(out, f), join(other, f)).catch(() => -2);
  process.stdout.write(`${JSON.stringify(counts, null, 1)}\n`);
}
