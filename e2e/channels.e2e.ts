// Multi-channel fluorescence in Chromium against the serve host: the 5-channel fixture folder (OME-TIFF,
// two OME-Zarr folders, mask PNGs) is imported through the import dialog (each .zarr folder is one image);
// the OME-TIFF opens with a Channels panel of five rows named from its OME-XML (an RGB PNG shows none).
// Toggling AF647 with the key 4, raising its contrast minimum and the "First 3" preset each change the
// viewer's tile URL (the viewer loads the new tiles), and the tile the host serves there follows: at a
// pixel where only AF647 has signal, magenta, then dark, then magenta dimmed as the limits say, then dark. Set E2E_SHOTS=<folder> to keep screenshots.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TileSourceInfo } from '../core/common/api.js';
import { AppService, rootAssetUrls } from '../core/app/service.js';
import { writeChannelFixtures, type WrittenChannelFixtures } from '../core/data/fixtures/write-channel-fixtures.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing } from './support/browser.js';
import { decodeRgb } from './support/pixels.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();
const W = 512;

describe.skipIf(skip !== null)('multi-channel images in the viewer', () => {
  let dir: string;
  let fx: WrittenChannelFixtures;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-channels-'));
    fx = await writeChannelFixtures(join(dir, 'data'), { width: W, height: W, levels: 3 });
    process.env.DINOSCOPE_HOME = join(dir, 'home');
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
    await service.createProject(join(dir, 'project'));
    await service.close();
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  }, 120_000);

  afterAll(() => endSession({ browser, serve }, dir));

  /** The RGB of level-0 pixel (x, y) in the tile the host serves at the panel's current tile URL. */
  async function servedPixel(info: TileSourceInfo, tileUrl: string, x: number, y: number): Promise<number[]> {
    const url = tileUrl
      .replace('{level}', String(info.maxLevel))
      .replace('{x}', String(Math.floor(x / info.tileSize)))
      .replace('{y}', String(Math.floor(y / info.tileSize)));
    const res = await fetch(`${serve.origin}${url}`, { headers: { authorization: `Bearer ${serve.token}` } });
    expect(res.status, url).toBe(200);
    const img = await decodeRgb(Buffer.from(await res.arrayBuffer()));
    const i = ((y % info.tileSize) * img.width + (x % info.tileSize)) * 3;
    return Array.from(img.data.subarray(i, i + 3));
  }

  /** Waits until the panel has saved settings other than `previous`, and returns its tile URL. */
  async function nextTileUrl(previous: string): Promise<string> {
    const panel = page.getByTestId('channels-panel');
    const start = Date.now();
    while (Date.now() - start < 20_000) {
      const url = (await panel.getAttribute('data-tile-url')) ?? '';
      if (url !== previous && url !== '' && (await panel.getAttribute('data-saving')) === 'false') return url;
      await page.waitForTimeout(100);
    }
    throw new Error(`the tile URL stayed ${previous}`);
  }

  it('imports the folder, shows the channel panel, and serves tiles that follow the channel settings', async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    const dialog = await project.openImportDialog();
    await dialog.goTo(join(dir, 'data'));
    await dialog.confirm(); // the whole folder
    for (const name of ['channels.ome.tif', 'channels-v2.ome.zarr', 'channels-v3.ome.zarr', 'unique.png'])
      await project.waitForStatus(name, 'ok');
    expect(await page.locator('[data-testid="image-card"][data-name^="c"]').count()).toBe(3); // no chunk file became an image

    // An RGB image has no channel panel.
    await project.card('unique.png').click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    expect(await page.getByTestId('channels-panel').count()).toBe(0);

    await project.card('channels.ome.tif').click();
    await page.locator('[data-testid="viewer"][data-image-id][data-ready="true"]').waitFor();
    const rows = page.getByTestId('channel');
    await rows.nth(4).waitFor();
    expect(await rows.locator('.name').allTextContents()).toEqual(['1DAPI', '2AF488', '3AF555', '4AF647', '5AF750']);
    const id = (await page.getByTestId('viewer').getAttribute('data-image-id')) as string;
    const info = await callApi<TileSourceInfo>(serve, 'tileSource', id);

    // A pixel of a square only AF647 (channel 4, magenta) shows.
    const first = fx.fixture.masks.unique.indexOf(1);
    const [ux, uy] = [(first % W) + 12, Math.floor(first / W) + 12];
    expect(fx.fixture.masks.unique[uy * W + ux]).toBe(1);
    let url = (await page.getByTestId('channels-panel').getAttribute('data-tile-url')) as string;
    const magenta = await servedPixel(info, url, ux, uy);
    expect(magenta[0]).toBeGreaterThan(200);
    expect(magenta[2]).toBeGreaterThan(200);
    expect(magenta[1]).toBeLessThan(40);

    // Key 4 hides AF647: the host's tile is dark there, and the viewer loads the new tiles.
    await page.getByTestId('viewer').click({ position: { x: 5, y: 5 } });
    const loadedBefore = (await viewer.state()).tilesLoaded;
    await page.keyboard.press('4');
    url = await nextTileUrl(url);
    expect(await rows.nth(3).getAttribute('data-visible')).toBe('false');
    expect(Math.max(...(await servedPixel(info, url, ux, uy)))).toBeLessThan(30);
    await expect.poll(async () => (await viewer.state()).tilesLoaded, { timeout: 20_000 }).toBeGreaterThan(loadedBefore);

    // Key 4 again shows it; its contrast minimum raised to 90 % of the slider dims the square to
    // (v - min) / (max - min) of full brightness, v the sample written there.
    await page.keyboard.press('4');
    url = await nextTileUrl(url);
    await rows
      .nth(3)
      .getByTestId('channel-min')
      .evaluate((el: HTMLInputElement) => {
        el.value = String(Number(el.min) + 0.9 * (Number(el.max) - Number(el.min)));
        el.dispatchEvent(new Event('input', { bubbles: true }));
      });
    url = await nextTileUrl(url);
    const max = Number(await rows.nth(3).getAttribute('data-max'));
    const min = Number(await rows.nth(3).getAttribute('data-min'));
    // Over a 7 × 7 block inside the square (JPEG's chroma is shared between neighbours, so single pixels
    // of a noisy square are not exact): the mean brightness the limits give its samples.
    let want = 0;
    let got = 0;
    for (let dy = -3; dy <= 3; dy++)
      for (let dx = -3; dx <= 3; dx++) {
        const v = fx.fixture.levels[0].data[3 * W * W + (uy + dy) * W + ux + dx];
        want += (255 * Math.min(1, Math.max(0, (v - min) / (max - min)))) / 49;
        got += (await servedPixel(info, url, ux + dx, uy + dy))[0] / 49;
      }
    expect(Math.abs(got - want), `mean red ${got}, expected ${want} for limits ${min}–${max}`).toBeLessThan(15);
    expect(got).toBeLessThan(magenta[0] - 20);

    // "First 3" hides AF647 and AF750 again.
    await page.getByTestId('channels-preset-first3').click();
    url = await nextTileUrl(url);
    expect(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.visible))).toEqual([
      'true',
      'true',
      'true',
      'false',
      'false',
    ]);
    expect(Math.max(...(await servedPixel(info, url, ux, uy)))).toBeLessThan(30);
    await page.getByTestId('channels-preset-all').click();
    url = await nextTileUrl(url);
    await page.waitForTimeout(1500);
    if (process.env.E2E_SHOTS) await page.screenshot({ path: join(process.env.E2E_SHOTS, 'channels.png') });
    expect((await viewer.state()).tilesFailed).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 180_000);
});
