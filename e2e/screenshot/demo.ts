// Takes the README screenshots of the demo (docs/demo-clusters.png, docs/demo-pca.png) from a finished demo
// folder: `npx tsx e2e/screenshot/demo.ts DEMO_DIR [OUT_DIR] [K]`, DEMO_DIR being what `dinoscope demo --dir
// DEMO_DIR` made (its default budget, so the pictures show what a user sees after it; `npm run bench --
// demo-quality` with DINOSCOPE_DEMO_KEEP keeps the folder it scored). The folder is copied first, so the
// host's writes (recent projects, analysis state) never touch it. Opens the first slide, fits it, and
// captures the cluster map at k = K (default 5, the demo's number of tissue types, as the bench scores it)
// and then the PCA map.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AnalysisPage } from '../pages/analysis.js';
import { ProjectPage } from '../pages/project.js';
import { ViewerPage } from '../pages/viewer.js';
import { launchChromium } from '../support/browser.js';
import { buildCliAndRenderer } from '../support/build.js';
import { startServe } from '../support/serve.js';

const demo = process.argv[2];
const outDir = process.argv[3] ?? 'docs';
const k = Number(process.argv[4] ?? 5);
if (!demo) {
  process.stderr.write('usage: npx tsx e2e/screenshot/demo.ts DEMO_DIR [OUT_DIR]\n');
  process.exit(2);
}

/** A palette PNG: a full-colour one of the slide is several MB, a palette one looks the same. */
async function savePalettePng(png: Buffer, path: string): Promise<void> {
  await sharp(png).png({ palette: true, quality: 90, effort: 7 }).toFile(path);
  process.stderr.write(`screenshot: wrote ${path}\n`);
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-shot-demo-'));
try {
  const project = join(dir, 'demo');
  await cp(demo, project, { recursive: true });
  const first = (await readdir(join(project, 'slides'))).sort()[0];
  buildCliAndRenderer();
  const serve = await startServe(project, join(dir, 'home'));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(serve.url);
    const projectPage = new ProjectPage(page);
    await projectPage.root.waitFor();
    await projectPage.card(first).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await viewer.waitStill();
    const analysis = new AnalysisPage(page, viewer);
    for (const close of await page.locator('[data-testid="notice"] button').all()) await close.click();
    await analysis.setK(k);
    await analysis.mapToggle('clusters').check();
    await viewer.waitLayer('clusters', true, 120_000);
    await viewer.waitStill();
    await page.mouse.move(5, 5);
    await page.waitForTimeout(800);
    await savePalettePng(await page.screenshot(), join(outDir, 'demo-clusters.png'));
    await analysis.mapToggle('clusters').uncheck();
    await viewer.waitLayer('clusters', false);
    await analysis.mapToggle('pca').check();
    await viewer.waitLayer('pca', true, 120_000);
    await viewer.waitStill();
    await page.waitForTimeout(800);
    await savePalettePng(await page.screenshot(), join(outDir, 'demo-pca.png'));
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
