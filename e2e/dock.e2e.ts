// The viewer's dock in Chromium against the serve host, on a collection of texture mosaics with synthetic
// features (core/analysis/fixture.ts), at 1440 × 900 and 1024 × 700:
// - with the similarity, PCA and cluster layers on (k = 24: a long cluster legend) the panels stay inside
//   the window: each docked panel's bottom is within the viewport and the Layers panel scrolls inside
//   itself; no panel covers the slide's navigator, and the slide shrinks beside the dock;
// - the similarity layer shows a continuous colour bar with the query's score range at its ends and its
//   middle, and says the scale is per query;
// - a panel collapsed to its title bar stays collapsed across a reload, and expands again;
// - the toolbar's Panels button hides the dock (the slide takes the whole width) and shows it again,
//   remembered across a reload.
// Screenshots go to $E2E_SHOTS when it is set.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { AnalysisPage } from './pages/analysis.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const SPEC: MosaicSpec = { side: 896, stride: 14, dim: 48 };
const skip = chromiumMissing();
const shots = process.env.E2E_SHOTS;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
const overlaps = (a: Box, b: Box): boolean => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

describe.skipIf(skip !== null)('the viewer dock in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let names: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-dock-'));
    const { service, ids, names: n } = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 2, SPEC));
    names = n;
    await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
    if (shots) await mkdir(shots, { recursive: true });
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const shot = async (name: string): Promise<void> => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
  };

  async function openFirstImage(): Promise<{ viewer: ViewerPage; analysis: AnalysisPage }> {
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    return { viewer, analysis: new AnalysisPage(page, viewer) };
  }

  /** Page boxes of the navigator, the slide's canvas and every docked panel (with its scroll sizes). */
  const layout = (): Promise<{
    navigator: Box;
    canvas: Box;
    panels: (Box & { id: string; scrollHeight: number; clientHeight: number })[];
  }> =>
    page.evaluate(() => {
      const box = (e: Element): Box => {
        const r = e.getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      };
      const panels = Array.from(document.querySelectorAll('[data-testid="dock-panel"]'), (e) => {
        const p = e as HTMLElement;
        const body = p.querySelector('.body') as HTMLElement;
        return { ...box(p), id: p.dataset.panel!, scrollHeight: body.scrollHeight, clientHeight: body.clientHeight };
      });
      return {
        navigator: box(document.querySelector('[data-testid="navigator"]')!),
        canvas: box(document.querySelector('[data-testid="viewer"] .canvas')!),
        panels,
      };
    });

  async function expectInsideAndClear(height: number): Promise<void> {
    const l = await layout();
    expect(l.panels.map((p) => p.id)).toEqual(['layers', 'analysis']);
    for (const p of l.panels) {
      expect(p.bottom, `${p.id} panel bottom`).toBeLessThanOrEqual(height);
      expect(overlaps(p, l.navigator), `${p.id} panel covers the navigator`).toBe(false);
      expect(p.left, `${p.id} panel is beside the slide`).toBeGreaterThanOrEqual(l.canvas.right);
    }
    expect(l.navigator.right).toBeLessThanOrEqual(l.canvas.right + 1);
    expect(l.navigator.bottom).toBeLessThanOrEqual(height);
    // The long Layers panel scrolls inside itself rather than running off the window.
    const layers = l.panels.find((p) => p.id === 'layers')!;
    expect(layers.scrollHeight).toBeGreaterThan(layers.clientHeight);
  }

  it('with many layers the panels stay in the window, beside the slide and clear of the navigator; the heatmap has a colour bar', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(serve.url);
    const { viewer, analysis } = await openFirstImage();
    await analysis.mapToggle('pca').check();
    await analysis.setK(24);
    await analysis.mapToggle('clusters').check();
    await viewer.waitStill();
    await analysis.clickImagePoint(150, 700);
    await analysis.matches();
    const layers = page.getByTestId('layers-panel');
    await layers.locator('[data-layer-id="similarity"]').waitFor();
    await layers.locator('[data-layer-id="clusters"]').waitFor();
    await shot('dock-1440x900');
    await expectInsideAndClear(900);

    // The similarity colour bar: the ramp, the score at its ends and middle, and the per-query note.
    const bar = layers.locator('[data-layer-id="similarity"]').getByTestId('colour-bar');
    await bar.scrollIntoViewIfNeeded();
    if (shots)
      await page.locator('[data-testid="dock-panel"][data-panel="layers"]').screenshot({ path: join(shots, 'dock-colour-bar.png') });
    const min = Number(await bar.getAttribute('data-min'));
    const max = Number(await bar.getAttribute('data-max'));
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(min);
    await expect(bar.getByTestId('colour-bar-min').textContent()).resolves.toBe(min.toFixed(2));
    await expect(bar.getByTestId('colour-bar-mid').textContent()).resolves.toBe(((min + max) / 2).toFixed(2));
    await expect(bar.getByTestId('colour-bar-max').textContent()).resolves.toBe(max.toFixed(2));
    await expect(bar.getByTestId('colour-bar-note').textContent()).resolves.toMatch(/each query/);
    const ramp = await bar
      .locator('.ramp')
      .evaluate((e) => ({ image: getComputedStyle(e).backgroundImage, width: e.getBoundingClientRect().width }));
    expect(ramp.image).toMatch(/^linear-gradient\(to right, rgb\(40, 11, 84\).*rgb\(252, 255, 164\)\)$/);
    expect(ramp.width).toBeGreaterThan(150);
    // The PCA and cluster maps keep their swatch legends.
    await expect(layers.locator('[data-layer-id="clusters"] .legend li').count()).resolves.toBeGreaterThan(4);

    await page.setViewportSize({ width: 1024, height: 700 });
    await viewer.waitStill();
    await shot('dock-1024x700');
    await expectInsideAndClear(700);

    expect(consoleErrors).toEqual([]);
  });

  it('a collapsed panel stays collapsed across a reload, and expands again', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1440, height: 900 });
    const analysisDock = page.locator('[data-testid="dock-panel"][data-panel="analysis"]');
    await analysisDock.getByTestId('dock-toggle').click();
    await page.locator('[data-testid="dock-panel"][data-panel="analysis"][data-collapsed="true"]').waitFor();
    await expect(page.getByTestId('analysis-panel').isVisible()).resolves.toBe(false);
    const collapsedHeight = (await analysisDock.boundingBox())!.height;
    expect(collapsedHeight).toBeLessThan(50);

    await page.reload();
    await openFirstImage();
    await expect(analysisDock.getAttribute('data-collapsed')).resolves.toBe('true');
    await expect(page.getByTestId('analysis-panel').isVisible()).resolves.toBe(false);
    await expect(analysisDock.getByTestId('dock-toggle').getAttribute('aria-expanded')).resolves.toBe('false');
    await shot('dock-collapsed');

    await analysisDock.getByTestId('dock-toggle').click();
    await page.getByTestId('analysis-panel').waitFor({ state: 'visible' });
    await page.reload();
    await openFirstImage();
    await expect(analysisDock.getAttribute('data-collapsed')).resolves.toBe('false');
    await expect(page.getByTestId('analysis-panel').isVisible()).resolves.toBe(true);
  });

  it('the Panels button hides the dock (the slide takes the whole width), remembered across a reload', async () => {
    if (skip) return;
    const canvasRight = async (): Promise<number> => (await layout()).canvas.right;
    const withDock = await canvasRight();
    expect(withDock).toBeLessThan(1440 - 200);
    const button = page.getByTestId('dock-visibility');
    await expect(button.getAttribute('aria-pressed')).resolves.toBe('true');
    await button.click();
    await page.getByTestId('dock').waitFor({ state: 'hidden' });
    await expect.poll(canvasRight).toBe(1440);
    await shot('dock-hidden');

    await page.reload();
    const { viewer } = await openFirstImage();
    await viewer.waitStill();
    await expect(page.getByTestId('dock').isVisible()).resolves.toBe(false);
    await expect(button.getAttribute('aria-pressed')).resolves.toBe('false');
    await expect.poll(canvasRight).toBe(1440);
    await button.click();
    await page.getByTestId('dock').waitFor({ state: 'visible' });
    await expect.poll(canvasRight).toBe(withDock);
    expect(consoleErrors).toEqual([]);
  });
});

if (skip) it(`browser e2e skipped: ${skip}`, () => undefined);
