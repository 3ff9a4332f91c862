// Two browsers searching at once on one serve host, in Chromium: two browser contexts (their own pages,
// their own client ids: core/common/client-id.ts) open the same slide of three texture mosaics with
// SYNTHETIC feature stores (core/analysis/fixture.ts, as analysis.e2e.ts) and click patches of different
// textures. Each one's ranked matches are of its own texture, before and after the other's click; each
// opens a match on another image after both clicked, and the heatmap tiles its browser loads there light
// its own texture (with the host's single query state they lit the later query's). E2E_SHOTS=<folder>
// saves both screens.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textureAt, writeMosaics, writeSyntheticFeatures, type MosaicSpec } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import { AnalysisPage, type MatchRow } from './pages/analysis.js';
import { ProjectPage } from './pages/project.js';
import { ViewerPage } from './pages/viewer.js';
import { chromiumMissing, launchChromium, openPage } from './support/browser.js';
import { TileLog } from './support/network.js';
import { startServe, type RunningServe } from './support/serve.js';
import { endSession } from './support/session.js';
import { shot } from './support/shots.js';

const SPEC: MosaicSpec = { side: 896, stride: 14, dim: 48 };
const GRID = SPEC.side / SPEC.stride;
const MAX_LEVEL = Math.ceil(Math.log2(SPEC.side)); // DZI: level MAX_LEVEL is full resolution
const skip = chromiumMissing();

interface HeatTile {
  url: string;
  imageId: string;
  level: number;
  x: number;
  y: number;
  body: Buffer;
}

/** One browser: its page, viewer, Find similar panel, tile log, and every similarity tile it received. */
interface Browse {
  page: Page;
  viewer: ViewerPage;
  analysis: AnalysisPage;
  tiles: TileLog;
  heat: HeatTile[];
}

const heatRe = /^\/overlays\/([0-9a-f]{16})\/similarity\/(\d+)\/(\d+)_(\d+)\.png$/;

describe.skipIf(skip !== null)('two browsers searching on one serve host (Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let names: string[];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-clients-'));
    const { service, ids, names: n } = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 3, SPEC));
    names = n;
    await writeSyntheticFeatures(service.requireProject(), ids, SPEC);
    await service.close();
    serve = await startServe(join(dir, 'project'), join(dir, 'home'));
    browser = await launchChromium();
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const textureOf = (name: string, x: number, y: number): number =>
    textureAt(names.indexOf(name.replace(/^.*\//, '')), Math.floor(x / SPEC.stride), Math.floor(y / SPEC.stride), GRID);

  /** A browser context of its own on the editor's link, with the first mosaic open. */
  async function open(): Promise<Browse> {
    const page = await openPage(browser, consoleErrors); // a new context: its own cookies and page
    const tiles = new TileLog(page);
    const heat: HeatTile[] = [];
    page.on('response', (res) => {
      const m = heatRe.exec(new URL(res.url()).pathname);
      if (!m || res.status() !== 200) return;
      void res.body().then(
        (body) => heat.push({ url: res.url(), imageId: m[1], level: +m[2], x: +m[3], y: +m[4], body }),
        () => undefined,
      );
    });
    await page.goto(serve.url);
    const project = new ProjectPage(page);
    await project.root.waitFor();
    await project.card(names[0]).click();
    const viewer = new ViewerPage(page);
    await viewer.waitReady();
    await tiles.settle();
    await viewer.waitStill();
    return { page, viewer, analysis: new AnalysisPage(page, viewer), tiles, heat };
  }

  /** Clicks level-0 (x, y) of the open mosaic; the top 10 matches listed are all of `texture`. */
  async function query(b: Browse, x: number, y: number, texture: number): Promise<MatchRow[]> {
    await b.analysis.clickImagePoint(x, y);
    const top10 = (await b.analysis.matches()).slice(0, 10);
    expect(top10.map((m) => textureOf(m.name, m.x, m.y))).toEqual(new Array(10).fill(texture));
    await b.page.locator('[data-testid="layer"][data-layer-id="similarity"][data-visible="true"]').waitFor();
    await b.tiles.settle();
    return top10;
  }

  /** Drawn (alpha > 0) pixels of similarity tiles, by the texture under each (image `name`, level-0 cells). */
  async function drawn(tiles: HeatTile[], name: string): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const t of tiles) {
      const { data, info } = await sharp(t.body).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(4);
      const d = 2 ** (MAX_LEVEL - t.level);
      for (let py = 1; py < info.height; py += 4)
        for (let px = 1; px < info.width; px += 4) {
          if (data[4 * (py * info.width + px) + 3] === 0) continue;
          const u = textureOf(name, (t.x * 256 + px + 0.5) * d, (t.y * 256 + py + 0.5) * d);
          counts.set(u, (counts.get(u) ?? 0) + 1);
        }
    }
    return counts;
  }

  /** Opens a match on another image; the heatmap tiles its browser then loads light `texture` alone. */
  async function openMatchThere(b: Browse, top10: MatchRow[], texture: number): Promise<void> {
    const first = await b.viewer.root.getAttribute('data-image-id');
    const other = top10.find((m) => m.imageId !== first)!;
    const before = b.heat.length;
    await b.analysis.openMatch(other);
    await b.page.locator('[data-testid="layer"][data-layer-id="similarity"][data-visible="true"]').waitFor();
    await b.tiles.settle();
    await b.page.waitForTimeout(300); // the last bodies are read after their responses
    const there = b.heat.slice(before).filter((t) => t.imageId === other.imageId);
    expect(there.length).toBeGreaterThan(0);
    const counts = await drawn(there, other.name);
    const total = [...counts.values()].reduce((a, c) => a + c, 0);
    expect(counts.get(texture) ?? 0).toBeGreaterThan(100);
    // The synthetic features' noise may light a stray cell of another texture; another query lights a quadrant.
    expect(total - (counts.get(texture) ?? 0)).toBeLessThanOrEqual(0.02 * total);
  }

  it("each browser's matches and heatmap tiles follow its own query", async () => {
    const a = await open();
    const b = await open();
    // Mosaic 0: bottom-left and top-right quadrants, two different textures.
    const pa = { x: 150, y: 700 };
    const pb = { x: 700, y: 150 };
    const ta = textureOf(names[0], pa.x, pa.y);
    const tb = textureOf(names[0], pb.x, pb.y);
    expect(ta).not.toBe(tb);
    const topA = await query(a, pa.x, pa.y, ta);
    const topB = await query(b, pb.x, pb.y, tb);
    // A's list is still its own after B's click.
    expect((await a.analysis.matches()).slice(0, 10).map((m) => textureOf(m.name, m.x, m.y))).toEqual(new Array(10).fill(ta));
    // The tiles each browser loaded name its own client, and the two differ.
    const clientOf = (t: HeatTile): string | null => new URL(t.url).searchParams.get('client');
    expect(new Set(a.heat.map(clientOf)).size).toBe(1);
    expect(new Set(b.heat.map(clientOf)).size).toBe(1);
    expect(clientOf(a.heat[0])).not.toBe(clientOf(b.heat[0]));
    expect(clientOf(a.heat[0])).toMatch(/^[0-9a-f]{24}$/);
    // Both clicked; now each opens a match on another image: the heatmap there is of its own query.
    await openMatchThere(a, topA, ta);
    await openMatchThere(b, topB, tb);
    await shot(a.page, 'clients-a');
    await shot(b.page, 'clients-b');
    expect(consoleErrors).toEqual([]);
  });
});
