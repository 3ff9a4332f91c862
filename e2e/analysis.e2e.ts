// Similarity search in Chromium against the serve host: a collection of three texture mosaics (known
// regions) with SYNTHETIC feature stores written into the project in the extraction layout
// (core/analysis/fixture.ts: each texture its own feature direction plus noise; no model runs here —
// e2e/analysis-model.e2e.ts runs the same checks on features a real model extracts).
// Click a patch of one texture: the top-10 matches all lie in that texture's regions, some on other
// images; the heatmap overlay tiles load (200); clicking a match of another image opens it there;
// the exports re-open (GeoJSON parses, the OME-Zarr reads back with the grid's shape).
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import { textureAt, writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import type { AnalysisExportResult } from '../core/common/api.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { AnalysisPage } from './pages/analysis.js';
import { chromiumMissing } from './support/browser.js';
import { TileLog } from './support/network.js';
import { expectTextureQuery } from './support/texture-query.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 896, stride: 14, dim: 48 };
const GRID = SPEC.side / SPEC.stride;
const skip = chromiumMissing();

describe.skipIf(skip !== null)('similarity search in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-analysis-'));
    const { service, ids, names: n } = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 3, SPEC));
    names = n;
    await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const api = <T>(method: string, ...args: unknown[]): Promise<T> => callApi<T>(serve, method, ...args);

  const textureOf = (name: string, x: number, y: number): number =>
    textureAt(names.indexOf(name.replace(/^.*\//, '')), Math.floor(x / SPEC.stride), Math.floor(y / SPEC.stride), GRID);

  it('click → heatmap tiles and top-10 matches of the clicked texture; a match opens its image there; exports re-open', async () => {
    if (skip) return;
    const tiles = new TileLog(page);
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await tiles.settle();
    const analysis = new AnalysisPage(page, viewer);
    // Level-0 (150, 700) of mosaic 0: its bottom-left quadrant.
    const qx = 150;
    const qy = 700;
    const t = textureAt(0, Math.floor(qx / SPEC.stride), Math.floor(qy / SPEC.stride), GRID);
    // Top-10 of the clicked texture (some on other images), heatmap tiles loaded, a match opens its image.
    const other = await expectTextureQuery(page, viewer, analysis, tiles, { x: qx, y: qy, texture: t }, textureOf);

    // Exports: cluster polygons as GeoJSON, features as OME-Zarr.
    const geo = await api<AnalysisExportResult>('exportAnalysis', { format: 'geojson', k: 4 });
    expect(geo.paths).toHaveLength(3);
    const fc = JSON.parse(await readFile(geo.paths[0], 'utf8')) as { type: string; features: { geometry: { type: string } }[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.length).toBe(4);
    const z = await api<AnalysisExportResult>('exportAnalysis', { format: 'zarr', imageIds: [other.imageId] });
    const group = await zarr.open(new FileSystemStore(z.paths[0]), { kind: 'group' });
    const arr = await zarr.open(group.resolve('0'), { kind: 'array' });
    expect(arr.shape).toEqual([SPEC.dim, GRID, GRID]);
    const levels = (group.attrs as { ome: { multiscales: { datasets: unknown[] }[] } }).ome.multiscales[0].datasets.length;
    expect(levels).toBe(1); // 64 × 64 cells: no coarser level needed
    expect(consoleErrors).toEqual([]);
  });
});
