// Takes the README screenshot (docs/screenshot.png): `npx tsx e2e/screenshot/capture.ts`. Builds the CLI
// and renderer, writes two synthetic H&E-like slides, a pattern slide and a truncated file, imports them
// through the serve host's dialog in Chromium, opens a slide and zooms in.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writePyramidalTiff } from '../../core/data/fixtures/pyramidal-tiff.js';
import { ProjectPage } from '../pages/project.js';
import { ViewerPage } from '../pages/viewer.js';
import { launchChromium } from '../support/browser.js';
import { buildCliAndRenderer } from '../support/build.js';
import { TileLog } from '../support/network.js';
import { startServe } from '../support/serve.js';
import { tissueSvg } from './tissue.js';

const out = process.argv[2] ?? 'docs/screenshot.png';

async function writeTissueSlide(path: string, width: number, height: number, seed: number): Promise<void> {
  const rgb = await sharp(Buffer.from(tissueSvg(width, height, seed)), { limitInputPixels: false })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer();
  await writePyramidalTiff(path, { width, height, pattern: { data: new Uint8Array(rgb), width, height }, pixelsPerMm: 2000, quality: 90 });
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-shot-'));
try {
  const slides = join(dir, 'slides');
  await mkdir(slides);
  buildCliAndRenderer();
  await writeTissueSlide(join(slides, 'case-0117-A.tif'), 12000, 9000, 7);
  await writeTissueSlide(join(slides, 'case-0117-B.tif'), 9000, 7000, 21);
  await writePyramidalTiff(join(slides, 'calibration-pattern.tif'), { width: 6000, height: 6000, pixelsPerMm: 4000 });
  await writeFile(join(slides, 'case-0121-A.svs'), (await readFile(join(slides, 'case-0117-B.tif'))).subarray(0, 40_000));

  const serve = await startServe(join(dir, 'Colon biopsies'), join(dir, 'home'));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const tiles = new TileLog(page);
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    const dialog = await project.openImportDialog();
    await dialog.goTo(slides);
    await dialog.confirm(); // nothing selected: the whole folder
    await project.waitForStatus('case-0117-A.tif', 'ok');
    await project.card('case-0117-A.tif').click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await viewer.press('+');
    await viewer.waitStill();
    await viewer.press('a');
    await viewer.waitStill();
    await viewer.root
      .getByTestId('layers-panel')
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    await tiles.settle(1500);
    for (const close of await page.locator('[data-testid="notice"] button').all()) await close.click();
    // Park the pointer over tissue so the coordinate readout shows.
    const box = await viewer.root.boundingBox();
    if (box) await page.mouse.move(box.x + box.width * 0.42, box.y + box.height * 0.55);
    await page.waitForTimeout(500);
    await page.screenshot({ path: out });
    process.stderr.write(`screenshot: wrote ${out}\n`);
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
