// The click-a-texture check both analysis e2e tests make (synthetic feature stores and a real model): a
// click on level-0 (x, y) of the open mosaic ranks patches of the clicked texture first — the top 10 all
// of it, some on other images — the heatmap layer shows with its tiles loaded, and a match on another
// image opens that image centred on it (within 40 px). Returns that match for the checks that follow.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { AnalysisPage, MatchRow } from '../pages/analysis.js';
import type { ViewerPage } from '../pages/viewer.js';
import type { TileLog } from './network.js';

export async function expectTextureQuery(
  page: Page,
  viewer: ViewerPage,
  analysis: AnalysisPage,
  tiles: TileLog,
  click: { x: number; y: number; texture: number },
  textureOf: (name: string, x: number, y: number) => number,
): Promise<MatchRow> {
  await analysis.clickImagePoint(click.x, click.y);
  const top10 = (await analysis.matches()).slice(0, 10);
  expect(top10.map((m) => textureOf(m.name, m.x, m.y))).toEqual(new Array(10).fill(click.texture));
  const firstId = await viewer.root.getAttribute('data-image-id');
  expect(top10.some((m) => m.imageId !== firstId)).toBe(true);

  await page.locator('[data-testid="layer"][data-layer-id="similarity"][data-visible="true"]').waitFor();
  await tiles.settle();
  const heat = tiles.tiles('overlay');
  expect(heat.length).toBeGreaterThan(0);
  expect(heat.every((h) => h.status === 200)).toBe(true);

  const other = top10.find((m) => m.imageId !== firstId)!;
  const there = await analysis.openMatch(other);
  expect(Math.abs(there.centerX - other.x)).toBeLessThan(40);
  expect(Math.abs(there.centerY - other.y)).toBeLessThan(40);
  return other;
}
