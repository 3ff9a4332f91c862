// "Try the demo" in Chromium against the serve host started on the start screen: the button runs the
// whole demo (slides, project, training on the job host, extraction) with its progress; Cancel stops it
// on the start screen; started again it resumes, then the viewer opens the first slide with the hint and
// a click on a tissue patch lists matches. The test
// turns the button's request into the smoke-test demo (tiny slides and model, a few seconds of training,
// a temp folder) by rewriting its arguments in the browser's request: the page itself is unchanged.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoOptions } from '../core/common/api.js';
import { BACKGROUND } from '../core/demo/layout.js';
import { demoRegionAt, TINY_SPEC } from '../core/demo/generate.js';
import { StartPage } from './pages/start.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('Try the demo in Chromium', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-demo-'));
    ({ serve, browser, page } = await startSession(null, dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it('runs the demo from the start screen, opens the first slide ready to click, and a click finds matches', async () => {
    if (skip) return;
    const demoDir = join(dir, 'demo');
    const sent: DemoOptions[] = [];
    await page.route('**/api/call/startDemo', async (route) => {
      const [options] = JSON.parse(route.request().postData() ?? '[]') as [DemoOptions];
      sent.push(options);
      await route.continue({ postData: JSON.stringify([{ ...options, minutes: 0.05, tiny: true, dir: demoDir }]) });
    });
    await page.goto(serve.url);
    const start = new StartPage(page);
    await start.root.waitFor();
    // Progress with the phase and a Cancel button while it runs; Cancel stops it and says it will resume.
    await start.startDemo();
    await expect.poll(() => start.demoPhase(), { timeout: 60_000 }).toMatch(/generating|importing|training|extracting/);
    await start.cancelDemo();
    expect(await start.root.count()).toBe(1);
    // Started again, it resumes in the same folder and finishes.
    await start.startDemo();

    const viewer = new ViewerPage(page);
    await page.getByTestId('project-view').waitFor({ timeout: 120_000 });
    await viewer.waitReady();
    expect(sent).toEqual([{ minutes: 3 }, { minutes: 3 }]);
    await expect.poll(() => page.getByText('Click any patch to find similar regions').count()).toBe(1);
    const project = JSON.parse(await readFile(join(demoDir, 'project.json'), 'utf8')) as { images: { id: string; name: string }[] };
    expect(project.images[0].name).toBe('demo-slide-1.tif');
    expect(await viewer.root.getAttribute('data-image-id')).toBe(project.images[0].id);

    // Click the slide's centre (tissue on every demo slide): the match list fills.
    const qx = TINY_SPEC.side / 2;
    const qy = TINY_SPEC.side / 2;
    expect(demoRegionAt(0, TINY_SPEC, qx, qy)).not.toBe(BACKGROUND);
    const s = await viewer.waitStill();
    const box = (await viewer.root.locator('.canvas').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2 + (qx - s.centerX) * s.zoom, box.y + box.height / 2 + (qy - s.centerY) * s.zoom);
    await page.locator('[data-testid="analysis-panel"]:not([data-matches="0"])').waitFor({ timeout: 30_000 });
    const names = await page.getByTestId('match').evaluateAll((els) => els.map((e) => e.querySelector('.name')?.textContent?.trim() ?? ''));
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => /demo-slide-\d\.tif/.test(n))).toBe(true);
    // The cancelled startDemo call answered 409 (CANCELLED), which Chromium logs; nothing else may be logged.
    expect(consoleErrors).toEqual(['Failed to load resource: the server responded with a status of 409 (Conflict)']);
  });
});
