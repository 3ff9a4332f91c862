// The analysis with a REAL model in Chromium against the serve host: a random-initialised tiny ViT
// (DINOv2 layout, 4 blocks) saved as a project model, the three texture mosaics (textures differ in
// colour and pattern), and extraction started from the Extract panel (onnxruntime in the host). Then:
// a click on a patch of one texture ranks patches of that texture first (top-10, some on other images),
// the heatmap tiles load, a match opens its image, the exports re-open; and, after zooming and panning,
// the Extract panel's attention maps cover exactly the part of the image the viewer shows.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import { textureAt, writeMosaics, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import type { AnalysisExportResult, OverlayInfo } from '../core/common/api.js';
import { vitConfig } from '../core/model/config.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { AnalysisPage } from './pages/analysis.js';
import { chromiumMissing } from './support/browser.js';
import { TileLog } from './support/network.js';
import { expectTextureQuery } from './support/texture-query.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 192 };
const GRID = SPEC.side / SPEC.stride;
const skip = chromiumMissing();

describe.skipIf(skip !== null)('analysis with a real model in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-analysis-model-'));
    const imported = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 3, SPEC));
    names = imported.names;
    await imported.service.close();
    const cfg = vitConfig('tiny', { arch: 'dinov2', registers: 4, depth: 4 });
    const tensors = new Map<string, WeightTensor>(
      Object.entries(initParams(cfg, 1)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
    );
    await exportWeights(join(projectModelsDir(join(dir, 'project')), 'tiny-random'), cfg, tensors, 'hf');
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const api = <T>(method: string, ...args: unknown[]): Promise<T> => callApi<T>(serve, method, ...args);
  const textureOf = (name: string, x: number, y: number): number =>
    textureAt(names.indexOf(name.replace(/^.*\//, '')), Math.floor(x / SPEC.stride), Math.floor(y / SPEC.stride), GRID);

  it('extract from the panel → a click finds its texture; exports re-open; attention maps cover the visible region', async () => {
    if (skip) return;
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor().catch((e: unknown) => {
      throw new Error(`${String(e)}\nconsole: ${consoleErrors.join('\n')}\nserve: ${serve.stderr()}`);
    });

    // Extraction through the Extract panel: the project's model, level 0.
    await page.getByTestId('extract-button').click();
    const panel = page.getByTestId('extract-panel');
    await panel.getByTestId('extract-model').locator('option', { hasText: 'tiny-random' }).waitFor({ state: 'attached' });
    await panel.getByTestId('extract-start').click();
    await page.getByText(/Extracted [\d,]+ patches from 3 image\(s\) \(\d+ patches\/s on (cpu|webgpu|cuda), /).waitFor({ timeout: 60_000 });
    await panel.getByRole('button', { name: 'Close' }).click();

    // Click a patch of mosaic 0's bottom-left quadrant, away from the texture borders.
    const tiles = new TileLog(page);
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await tiles.settle();
    const analysis = new AnalysisPage(page, viewer);
    const qx = 100;
    const qy = 330;
    const t = textureAt(0, Math.floor(qx / SPEC.stride), Math.floor(qy / SPEC.stride), GRID);
    const other = await expectTextureQuery(page, viewer, analysis, tiles, { x: qx, y: qy, texture: t }, textureOf);

    // Exports of the real features re-open.
    const geo = await api<AnalysisExportResult>('exportAnalysis', { format: 'geojson', k: 4 });
    expect(geo.paths).toHaveLength(3);
    const fc = JSON.parse(await readFile(geo.paths[0], 'utf8')) as { type: string; features: unknown[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.length).toBeGreaterThan(0);
    const z = await api<AnalysisExportResult>('exportAnalysis', { format: 'zarr', imageIds: [other.imageId] });
    const arr = await zarr.open(zarr.root(new FileSystemStore(z.paths[0])).resolve('0'), { kind: 'array' });
    expect(arr.shape).toEqual([SPEC.dim, GRID, GRID]);

    // Zoom in and pan; the panel's attention region is the visible part of the image, on the patch grid.
    await viewer.press('+', 3);
    await viewer.press('ArrowRight');
    await viewer.press('ArrowDown');
    const v = await viewer.waitStill();
    const cells = (lo: number, hi: number): [number, number] => [
      Math.max(0, Math.floor(lo / SPEC.stride)),
      Math.min(GRID, Math.ceil(hi / SPEC.stride)),
    ];
    const wantX = cells(v.centerX - v.width / (2 * v.zoom), v.centerX + v.width / (2 * v.zoom));
    const wantY = cells(v.centerY - v.height / (2 * v.zoom), v.centerY + v.height / (2 * v.zoom));
    expect(wantX[1] - wantX[0]).toBeLessThan(GRID); // the view shows part of the image, not all of it
    expect(wantY[1] - wantY[0]).toBeLessThan(GRID);
    await page.getByTestId('extract-button').click();
    const region = await panel.getByTestId('attention-region').evaluate((e) => {
      const d = (e as HTMLElement).dataset;
      return { x: Number(d.x), y: Number(d.y), width: Number(d.width), height: Number(d.height) };
    });
    const gotX: [number, number] = [Math.floor(region.x / SPEC.stride), Math.round((region.x + region.width) / SPEC.stride)];
    const gotY: [number, number] = [Math.floor(region.y / SPEC.stride), Math.round((region.y + region.height) / SPEC.stride)];
    // The viewer's own corner mapping and this one from its centre and zoom agree to a patch at the edges.
    for (const [got, want] of [
      [gotX, wantX],
      [gotY, wantY],
    ])
      for (let i = 0; i < 2; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1);
    await panel.getByTestId('attention-start').click();
    await page.locator('[data-testid="layer"][data-layer-id="attention"]').waitFor({ timeout: 30_000 });

    // The attention overlay is drawn over exactly those cells: its full-resolution tiles' opaque pixels.
    const infos = await api<OverlayInfo[]>('overlays', other.imageId);
    const att = infos.find((o) => o.id === 'attention')!;
    const maxLevel = Math.ceil(Math.log2(SPEC.side));
    const opaque = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    for (const [tx, ty] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]) {
      const url = serve.origin + att.tileUrl.replace('{level}', String(maxLevel)).replace('{x}', String(tx)).replace('{y}', String(ty));
      const res = await fetch(url, { headers: { authorization: `Bearer ${serve.token}` } });
      expect(res.status).toBe(200);
      const { data, info } = await sharp(Buffer.from(await res.arrayBuffer()))
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let y = 0; y < info.height; y++)
        for (let x = 0; x < info.width; x++) {
          if (data[4 * (y * info.width + x) + 3] === 0) continue;
          opaque.x0 = Math.min(opaque.x0, tx * 256 + x);
          opaque.y0 = Math.min(opaque.y0, ty * 256 + y);
          opaque.x1 = Math.max(opaque.x1, tx * 256 + x + 1);
          opaque.y1 = Math.max(opaque.y1, ty * 256 + y + 1);
        }
    }
    expect(opaque).toEqual({ x0: gotX[0] * SPEC.stride, y0: gotY[0] * SPEC.stride, x1: gotX[1] * SPEC.stride, y1: gotY[1] * SPEC.stride });
    // Its legend is a colour bar over the map's own range (the one its tiles are coloured with).
    const bar = page.locator('[data-testid="layer"][data-layer-id="attention"] [data-testid="colour-bar"]');
    expect(att.scale!.max).toBeGreaterThan(att.scale!.min);
    await expect(bar.getAttribute('data-min')).resolves.toBe(String(att.scale!.min));
    await expect(bar.getAttribute('data-max')).resolves.toBe(String(att.scale!.max));
    await expect(bar.getByTestId('colour-bar-note').textContent()).resolves.toContain('× uniform');
    expect(consoleErrors).toEqual([]);
  });
});
