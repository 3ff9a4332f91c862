// Takes the README screenshot of Find similar (docs/find-similar.png): `npx tsx e2e/screenshot/similar.ts`.
// Builds the CLI and renderer, writes three calibrated texture mosaics (2 µm per pixel) with SYNTHETIC
// feature stores (one feature direction per texture, as e2e/export.e2e.ts), opens the first, clicks a patch
// and shift-clicks a second one of the same texture, and captures the viewer with the query markers, the
// similarity map and the ranked matches of every image. With a second path argument it also captures the
// Export dialog opened over that view.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../../core/analysis/fixture.js';
import { importedProject } from '../../core/app/fixture-service.js';
import { AnalysisPage } from '../pages/analysis.js';
import { ExportPage } from '../pages/export.js';
import { ProjectPage } from '../pages/project.js';
import { ViewerPage } from '../pages/viewer.js';
import { launchChromium } from '../support/browser.js';
import { buildCliAndRenderer } from '../support/build.js';
import { startServe } from '../support/serve.js';

const out = process.argv[2] ?? 'docs/find-similar.png';
const exportOut = process.argv[3];
const MPP = 2;
const SPEC: MosaicSpec = { side: 1024, stride: 16, dim: 8 };

/** A palette PNG: the textures make a full-colour one over 1 MB, a third of that looks the same. */
async function savePalettePng(png: Buffer, path: string): Promise<void> {
  await sharp(png).png({ palette: true, quality: 90, effort: 7 }).toFile(path);
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-shot-similar-'));
try {
  const pngs = await writeMosaics(join(dir, 'png'), 3, SPEC);
  const paths = await Promise.all(
    pngs.map(async (p, i) => {
      const t = join(dir, `biopsy-${String.fromCharCode(65 + i)}.tif`);
      await sharp(p)
        .tiff({ xres: 1000 / MPP, yres: 1000 / MPP, resolutionUnit: 'cm' })
        .toFile(t);
      return t;
    }),
  );
  const { service, ids, names } = await importedProject(dir, paths);
  await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
  await service.close();
  buildCliAndRenderer();
  const serve = await startServe(join(dir, 'project'), join(dir, 'home'));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await viewer.waitStill();
    const analysis = new AnalysisPage(page, viewer);
    await analysis.clickImagePoint(SPEC.side * 0.25, SPEC.side * 0.3);
    await analysis.matches();
    await analysis.clickImagePoint(SPEC.side * 0.3, SPEC.side * 0.2, ['Shift']);
    await analysis.matches();
    for (const close of await page.locator('[data-testid="notice"] button').all()) await close.click();
    await page.mouse.move(5, 5);
    await page.waitForTimeout(800);
    await savePalettePng(await page.screenshot(), out);
    process.stderr.write(`screenshot: wrote ${out}\n`);
    if (exportOut) {
      const dialog = new ExportPage(page);
      await dialog.open();
      await dialog.choose({ format: 'qupath', scope: 'all' });
      await page.waitForTimeout(300);
      await savePalettePng(await page.screenshot(), exportOut);
      process.stderr.write(`screenshot: wrote ${exportOut}\n`);
    }
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
