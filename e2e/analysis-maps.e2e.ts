// The analysis panel's maps and query marks in Chromium (1440 × 900) against the serve host, on three
// texture mosaics with SYNTHETIC feature stores (core/analysis/fixture.ts):
// - ticking Clusters with PCA off keeps the tab responsive and asks the host for one cluster map;
// - the PCA / Clusters checkboxes and the layers panel's toggles show and change one state;
// - changing k redraws the clusters and leaves a hidden PCA layer hidden; a listed cluster's regions
//   follow the new k; so do they the maps' smoothing (one patch by default);
// - a double-click zooms and does not query;
// - a click outlines its patch on the slide, shift-click outlines both and says "mean of 2 patches", an
//   alt-drag outlines the rectangle on the patch grid;
// - a match opened on another image shows the same query's heatmap there, its patch marked.
// Screenshots of each screen go to $E2E_SHOTS when it is set.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import type { ClusterRegionInfo } from '../core/common/api.js';
import { DEFAULT_CLUSTER_K } from '../core/common/clusters.js';
import { DEFAULT_MAP_SMOOTHING } from '../core/common/map-smoothing.js';
import { AnalysisPage } from './pages/analysis.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 32 };
const skip = chromiumMissing();
const shots = process.env.E2E_SHOTS;

describe.skipIf(skip !== null)('analysis maps and query marks in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  let viewer: ViewerPage;
  let analysis: AnalysisPage;
  const consoleErrors: string[] = [];
  /** Every API call the page makes, by method. */
  const calls: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-maps-'));
    const { service, ids, names: n } = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 3, SPEC));
    names = n;
    await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
    await page.setViewportSize({ width: 1440, height: 900 });
    page.on('request', (r: Request) => {
      const m = /\/api\/call\/(\w+)/.exec(r.url());
      if (m) calls.push(m[1]);
    });
    if (shots) await mkdir(shots, { recursive: true });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    viewer = new ViewerPage(page);
    analysis = new AnalysisPage(page, viewer);
    await viewer.waitReady();
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const shot = async (name: string): Promise<void> => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
  };
  /** Resolves when the page answers a script within 5 s (a hung tab does not). */
  const responsive = (): Promise<number> =>
    Promise.race([
      page.evaluate(() => 1),
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the tab stopped answering')), 5_000)),
    ]);

  it('ticking Clusters with PCA off draws the cluster map with one call, and the tab stays responsive', async () => {
    if (skip) return;
    const before = calls.length;
    await analysis.mapToggle('clusters').check();
    await viewer.waitLayer('clusters', true);
    await page.waitForTimeout(2_000);
    await expect(responsive()).resolves.toBe(1);
    const made = calls.slice(before);
    expect(made.filter((m) => m === 'clusterOverlay')).toHaveLength(1);
    expect(made.length).toBeLessThanOrEqual(3);
    await expect(viewer.layerById('clusters').locator('.legend li').count()).resolves.toBe(DEFAULT_CLUSTER_K);
    await shot('maps-clusters-on');

    // Unticking PCA while Clusters is on (PCA never on): the same path, still quiet.
    const again = calls.length;
    await analysis.mapToggle('pca').check();
    await viewer.waitLayer('pca', true);
    await analysis.mapToggle('pca').uncheck();
    await viewer.waitLayer('pca', false);
    await page.waitForTimeout(1_000);
    await expect(responsive()).resolves.toBe(1);
    expect(calls.slice(again).filter((m) => m === 'pcaOverlay')).toHaveLength(1);
    expect(calls.length - again).toBeLessThanOrEqual(3);
    // One default k for the UI, the CLI and the exports.
    await expect(analysis.panel.getByTestId('clusters-k').inputValue()).resolves.toBe(String(DEFAULT_CLUSTER_K));
    expect(consoleErrors).toEqual([]);
  });

  it('the map checkboxes and the layers panel agree; k redraws the clusters, keeps a hidden PCA hidden, and the regions follow k', async () => {
    if (skip) return;
    // PCA and Clusters on from the analysis panel; PCA off from the layers panel: both panels say off.
    await analysis.mapToggle('pca').check();
    await viewer.waitLayer('pca', true);
    await analysis.mapToggle('clusters').check();
    await viewer.waitLayer('clusters', true);
    await viewer.layerById('pca').getByTestId('layer-toggle').uncheck();
    await viewer.waitLayer('pca', false);
    await expect(analysis.mapToggle('pca').isChecked()).resolves.toBe(false);
    // Clusters off and on from the layers panel: the analysis panel follows.
    await viewer.layerById('clusters').getByTestId('layer-toggle').uncheck();
    await viewer.waitLayer('clusters', false);
    await expect(analysis.mapToggle('clusters').isChecked()).resolves.toBe(false);
    await viewer.layerById('clusters').getByTestId('layer-toggle').check();
    await viewer.waitLayer('clusters', true);
    await expect(analysis.mapToggle('clusters').isChecked()).resolves.toBe(true);

    // The largest regions of cluster 1 at k = 4.
    await analysis.setK(4);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="layer"][data-layer-id="clusters"] .legend li').length === 4,
      null,
      { timeout: 30_000 },
    );
    await analysis.panel.getByTestId('cluster-button').nth(1).click();
    const listed = analysis.panel.locator('[data-testid="cluster-regions-of"][data-cluster="1"][data-k="4"]');
    await listed.waitFor({ timeout: 30_000 });
    await shot('maps-regions-k4');

    // k = 3: the clusters redraw with 3 colours, PCA stays hidden, the list is cluster 1 of the new k.
    await analysis.setK(3);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="layer"][data-layer-id="clusters"] .legend li').length === 3,
      null,
      { timeout: 30_000 },
    );
    await analysis.panel.locator('[data-testid="cluster-regions-of"][data-cluster="1"][data-k="3"]').waitFor({ timeout: 30_000 });
    await expect(viewer.layerById('pca').getAttribute('data-visible')).resolves.toBe('false');
    await expect(analysis.mapToggle('pca').isChecked()).resolves.toBe(false);
    await expect(analysis.panel.getByTestId('cluster-button').count()).resolves.toBe(3);
    const rows = await analysis.panel
      .getByTestId('cluster-regions')
      .getByTestId('match')
      .evaluateAll((els) =>
        els.map((e) => `${(e as HTMLElement).dataset.imageId} ${(e as HTMLElement).dataset.x} ${(e as HTMLElement).dataset.y}`),
      );
    // The same regions through the API: clusterings are each browser's own, so this caller shows k = 3
    // first (one image's map), and gets the regions of the model the browser's k = 3 was drawn from.
    await callApi(serve, 'clusterOverlay', (await viewer.root.getAttribute('data-image-id'))!, 3);
    const want = await callApi<ClusterRegionInfo[]>(serve, 'clusterRegions', 1);
    expect(rows).toEqual(want.map((r) => `${r.imageId} ${r.x} ${r.y}`));
    await shot('maps-k3-pca-hidden');
    expect(consoleErrors).toEqual([]);
  });

  it("the maps' smoothing: one patch by default; off redraws the cluster map once and relists its regions", async () => {
    if (skip) return;
    const select = analysis.panel.getByTestId('maps-smoothing');
    await expect(select.inputValue()).resolves.toBe(String(DEFAULT_MAP_SMOOTHING));
    await expect(select.locator('option').allTextContents()).resolves.toEqual(['off', '½ patch', '1 patch', '2 patches']);
    // Clusters on at k = 3 with cluster 1's regions listed (the test above), PCA hidden.
    const before = calls.length;
    const count = (m: string): number => calls.slice(before).filter((c) => c === m).length;
    await select.selectOption({ label: 'off' });
    await expect.poll(() => count('clusterOverlay'), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => count('clusterRegions'), { timeout: 30_000 }).toBe(1);
    await page.waitForTimeout(1_000);
    expect(count('clusterOverlay')).toBe(1);
    expect(count('pcaOverlay')).toBe(0); // hidden: not fetched until shown
    // The listed regions are those of the unsmoothed clustering, as the API gives them.
    const id = (await viewer.root.getAttribute('data-image-id'))!;
    await callApi(serve, 'clusterOverlay', id, 3, { smoothing: 0 });
    const want = await callApi<ClusterRegionInfo[]>(serve, 'clusterRegions', 1);
    await expect
      .poll(
        () =>
          analysis.panel
            .getByTestId('cluster-regions')
            .getByTestId('match')
            .evaluateAll((els) =>
              els.map((e) => `${(e as HTMLElement).dataset.imageId} ${(e as HTMLElement).dataset.x} ${(e as HTMLElement).dataset.y}`),
            ),
        { timeout: 30_000 },
      )
      .toEqual(want.map((r) => `${r.imageId} ${r.x} ${r.y}`));
    await shot('maps-smoothing-off');
    await select.selectOption({ label: '1 patch' });
    await expect.poll(() => count('clusterOverlay'), { timeout: 30_000 }).toBe(2);
    expect(consoleErrors).toEqual([]);
  });

  it('a double-click zooms in and does not query', async () => {
    if (skip) return;
    await analysis.mapToggle('clusters').uncheck();
    const fit = await viewer.waitStill();
    const before = calls.length;
    const p = await analysis.screenPoint(120, 330);
    await page.mouse.dblclick(p.x, p.y);
    await viewer.waitZoom(fit.zoom * 2);
    await page.waitForTimeout(1_000);
    expect(calls.slice(before).filter((m) => m === 'similarityQuery')).toEqual([]);
    await expect(analysis.panel.getAttribute('data-matches')).resolves.toBe('0');
    expect(consoleErrors).toEqual([]);
  });

  it('a click outlines its patch; shift-click outlines both and says "mean of 2 patches"; alt-drag outlines the rectangle', async () => {
    if (skip) return;
    await viewer.press('0');
    await viewer.waitStill();
    const cell = (v: number): number => Math.floor(v / SPEC.stride) * SPEC.stride;

    await analysis.clickImagePoint(100, 330);
    await page.locator('[data-testid="analysis-query"][data-patches="1"]').waitFor({ timeout: 30_000 });
    await expect(analysis.panel.getByTestId('analysis-query').textContent()).resolves.toBe('Query: 1 patch');
    const one = await analysis.markers();
    expect(one.map((m) => m.box)).toEqual([{ x: cell(100), y: cell(330), width: SPEC.stride, height: SPEC.stride }]);
    // Drawn over that cell of the slide (within a pixel).
    const s = await viewer.state();
    const corner = await analysis.screenPoint(cell(100), cell(330));
    expect(Math.abs(one[0].screen.x - corner.x)).toBeLessThan(1.5);
    expect(Math.abs(one[0].screen.y - corner.y)).toBeLessThan(1.5);
    expect(Math.abs(one[0].screen.width - SPEC.stride * s.zoom)).toBeLessThan(1.5);
    await shot('query-one-patch');

    await analysis.clickImagePoint(60, 400, ['Shift']);
    await page.locator('[data-testid="analysis-query"][data-patches="2"]').waitFor({ timeout: 30_000 });
    await expect(analysis.panel.getByTestId('analysis-query').textContent()).resolves.toBe('Query: mean of 2 patches');
    expect((await analysis.markers()).map((m) => m.box)).toEqual([
      { x: cell(100), y: cell(330), width: SPEC.stride, height: SPEC.stride },
      { x: cell(60), y: cell(400), width: SPEC.stride, height: SPEC.stride },
    ]);
    await shot('query-two-patches');

    await analysis.altDrag(30, 250, 150, 340);
    await page.locator('[data-testid="analysis-query"][data-patches="72"]').waitFor({ timeout: 30_000 }); // cells 2..10 × 17..24
    await expect(analysis.panel.getByTestId('analysis-query').textContent()).resolves.toBe('Rectangle: mean of 72 patches');
    expect((await analysis.markers()).map((m) => m.box)).toEqual([
      { x: cell(30), y: cell(250), width: 9 * SPEC.stride, height: 8 * SPEC.stride },
    ]);
    await shot('query-rectangle');

    // The marker follows the view: zoomed in, it is drawn where its cell now is.
    await viewer.press('+');
    await viewer.waitStill();
    const [zoomed] = await analysis.markers();
    const at = await analysis.screenPoint(cell(30), cell(250));
    expect(Math.abs(zoomed.screen.x - at.x)).toBeLessThan(1.5);
    expect(Math.abs(zoomed.screen.y - at.y)).toBeLessThan(1.5);
    expect(consoleErrors).toEqual([]);
  });

  it("a match opened on another image shows the same query's heatmap there and marks the match; a new query drops it", async () => {
    if (skip) return;
    const first = await viewer.root.getAttribute('data-image-id');
    const other = (await analysis.matches()).find((m) => m.imageId !== first)!;
    const before = calls.length;
    await analysis.openMatch(other);
    await viewer.waitLayer('similarity', true);
    expect(calls.slice(before).filter((m) => m === 'similarityHeatmap')).toHaveLength(1);
    expect(calls.slice(before).filter((m) => m === 'similarityQuery')).toEqual([]);
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('[data-testid="viewer"]')?.dataset.overlayTilesLoaded) > 0,
      null,
      { timeout: 30_000 },
    );
    const marks = await page.getByTestId('match-marker').evaluateAll((els) => els.map((e) => ({ ...(e as HTMLElement).dataset })));
    expect(marks.map((d) => [Number(d.x), Number(d.y), Number(d.width), Number(d.height)])).toEqual([
      [other.x - SPEC.stride / 2, other.y - SPEC.stride / 2, SPEC.stride, SPEC.stride],
    ]);
    await expect(page.getByTestId('query-marker').count()).resolves.toBe(0);
    await shot('match-on-other-image');

    // A new query back on the first image: the other image no longer shows the old query's heatmap.
    await new ProjectPage(page).card(names[0]).click();
    await page.locator(`[data-testid="viewer"][data-image-id="${first}"][data-ready="true"]`).waitFor();
    await viewer.waitStill();
    await analysis.clickImagePoint(350, 100);
    await page.locator('[data-testid="analysis-query"][data-patches="1"]').waitFor({ timeout: 30_000 });
    await page
      .getByTestId('viewer')
      .locator(`[data-testid="query-marker"][data-x="${Math.floor(350 / SPEC.stride) * SPEC.stride}"]`)
      .waitFor();
    await new ProjectPage(page).card(other.name.replace(/^.*\//, '')).click();
    await page.locator(`[data-testid="viewer"][data-image-id="${other.imageId}"][data-ready="true"]`).waitFor();
    await page.waitForTimeout(1_000);
    await expect(page.locator('[data-testid="layer"][data-layer-id="similarity"][data-visible="true"]').count()).resolves.toBe(0);
    await expect(page.getByTestId('match-marker').count()).resolves.toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});

if (skip) it(`browser e2e skipped: ${skip}`, () => undefined);
