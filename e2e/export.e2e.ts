// The Export dialog in Chromium against the serve host, on two calibrated texture mosaics (TIFFs stating
// 2 µm per pixel) with SYNTHETIC feature stores (16-pixel patches: 32 µm per map pixel). Every export is
// checked on disk:
//   OME-TIFF clusters of all images into a folder picked in the host's file browser → progress image by
//     image, per image a one-channel label image and a colour preview, PhysicalSizeX 32 µm (before it,
//     pixels per patch out of range → the field says so in plain words);
//   a file typed as the folder → the field says it is a file;
//   For QuPath (default folder) → a GeoJSON per image and open-in-qupath.txt naming each image file, and
//     the dialog says what to do next in QuPath;
//   CSV with no query → features of the shown image (the "matches" choice is disabled until a click);
//   after a click in the viewer, GeoJSON of the similarity → one valid polygon feature.
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { AnalysisPage } from './pages/analysis.js';
import { ExportPage } from './pages/export.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const MPP = 2;
const SPEC: MosaicSpec = { side: 512, stride: 16, dim: 8 };
const GRID = SPEC.side / SPEC.stride;
const skip = chromiumMissing();

describe.skipIf(skip !== null)('Export dialog in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  let paths: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-export-'));
    const pngs = await writeMosaics(join(dir, 'png'), 2, SPEC);
    paths = await Promise.all(
      pngs.map(async (p, i) => {
        const t = join(dir, `slide-${i}.tif`);
        await sharp(p)
          .tiff({ xres: 1000 / MPP, yres: 1000 / MPP, resolutionUnit: 'cm' })
          .toFile(t);
        return t;
      }),
    );
    const { service, ids, names: n } = await importedProject(dir, paths);
    names = n;
    await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('exports label maps, QuPath files, CSV and the similarity polygon, every file on disk', async () => {
    if (skip) return;
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    const dialog = new ExportPage(page);
    await dialog.open();
    await page.screenshot({ path: join(dir, 'export-dialog.png') });
    if (process.env.DINOSCOPE_SHOT) await page.screenshot({ path: process.env.DINOSCOPE_SHOT });

    // OME-TIFF clusters of every image, into a folder chosen in the file browser.
    const out = join(dir, 'out');
    await mkdir(out);
    await dialog.choose({ format: 'ome-tiff', what: 'clusters', k: 4, scope: 'all' });
    // Pixels per patch outside its range is said under the field in plain words (NumberField); then 1 again.
    await dialog.choose({ format: 'ome-tiff', ppp: 65 });
    expect(await dialog.root.getByTestId('export-ppp-problem').textContent()).toBe('Pixels per patch must be from 1 to 64.');
    if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, 'export-ppp-problem.png') });
    await dialog.choose({ format: 'ome-tiff', ppp: 1 });
    await dialog.root.getByTestId('export-ppp-problem').waitFor({ state: 'detached' });
    await dialog.chooseFolder(out);
    expect(await dialog.root.getByTestId('export-dir').inputValue()).toBe(out);
    await dialog.watchProgress();
    const tif = await dialog.run();
    expect(await dialog.progressSeen()).toEqual([`Image 1 of 2: ${names[0]}`, `Image 2 of 2: ${names[1]}`]); // image by image
    expect(tif.dir).toBe(out);
    expect(tif.paths.map((p) => basename(p).replace(/^slide-(\d)-[^.]+\./, '$1.')).sort()).toEqual([
      '0.clusters.ome.tif',
      '0.clusters.preview.png',
      '1.clusters.ome.tif',
      '1.clusters.preview.png',
    ]);
    for (const p of tif.paths) expect((await stat(p)).size).toBeGreaterThan(0);
    const labelTif = tif.paths.find((p) => p.endsWith('.ome.tif'))!;
    expect((await sharp(labelTif).metadata()).channels).toBe(1);
    const xml = (await readFile(labelTif)).toString('latin1');
    expect(xml).toContain(`PhysicalSizeX="${SPEC.stride * MPP}"`);
    expect(await dialog.root.getByTestId('export-pixel-size').textContent()).toBe(
      `${SPEC.stride * MPP} µm per pixel, written into the files.`,
    );
    if (process.env.DINOSCOPE_SHOT_DONE) await page.screenshot({ path: process.env.DINOSCOPE_SHOT_DONE });

    // The folder field says in plain words when its path is a file.
    await dialog.root.getByTestId('export-dir').fill(paths[0]);
    await expect
      .poll(() => dialog.root.getByTestId('export-dir-problem').textContent(), { timeout: 10_000 })
      .toBe(`${paths[0]} is a file: choose a folder (or a new folder's name).`);

    // For QuPath, into a new folder in the project's exports/.
    await dialog.choose({ format: 'qupath', what: 'clusters', scope: 'all' });
    await dialog.root.getByTestId('export-dir').fill('');
    const qp = await dialog.run();
    expect(qp.dir.startsWith(join(dir, 'project', 'exports'))).toBe(true);
    expect(qp.paths.map((p) => basename(p).replace(/^.*\./, ''))).toEqual(['geojson', 'geojson', 'txt']);
    const guide = await readFile(qp.paths[2], 'utf8');
    for (const p of paths) expect(guide).toContain(p);
    expect(qp.notice).toContain('File › Open…');
    expect(qp.notice).toContain('File › Import objects from file…');
    const fc = JSON.parse(await readFile(qp.paths[0], 'utf8')) as {
      type: string;
      features: { properties: { classification: { name: string } } }[];
    };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.length).toBeGreaterThan(0);
    if (process.env.DINOSCOPE_SHOT_QUPATH) await page.screenshot({ path: process.env.DINOSCOPE_SHOT_QUPATH });

    // CSV before any query: "matches" is not offered yet, features of the shown image are.
    await dialog.choose({ format: 'csv', scope: 'current' });
    expect(await dialog.root.getByTestId('export-what-search').isDisabled()).toBe(true);
    await dialog.choose({ format: 'csv', what: 'features', scope: 'current' });
    const csv = await dialog.run();
    expect(csv.paths).toHaveLength(1);
    const lines = (await readFile(csv.paths[0], 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toBe('image,x,y,col,row,f0,f1,f2,f3,f4,f5,f6,f7');
    expect(lines).toHaveLength(1 + GRID * GRID);
    await dialog.close();

    // A click in the viewer makes the similarity exportable.
    await viewer.waitStill();
    const analysis = new AnalysisPage(page, viewer);
    await analysis.clickImagePoint(100, 100);
    await analysis.matches();
    await dialog.open();
    await dialog.choose({ format: 'geojson', what: 'similarity' });
    const sim = await dialog.run();
    expect(sim.paths).toHaveLength(1);
    const simFc = JSON.parse(await readFile(sim.paths[0], 'utf8')) as { features: { geometry: { type: string } }[] };
    expect(simFc.features).toHaveLength(1);
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
