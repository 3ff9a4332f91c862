// The similarity side of the viewer: click a level-0 point, read the ranked matches, open one.
import type { Locator, Page } from 'playwright-core';
import type { ViewerPage } from './viewer.js';

export interface MatchRow {
  imageId: string;
  name: string;
  /** Level-0 pixel of the match's centre. */
  x: number;
  y: number;
}

export class AnalysisPage {
  readonly panel: Locator;
  constructor(
    private readonly page: Page,
    private readonly viewer: ViewerPage,
  ) {
    this.panel = page.getByTestId('analysis-panel');
  }

  /** Clicks level-0 pixel (x, y) of the open image (the view must be still). */
  async clickImagePoint(x: number, y: number, modifiers: ('Shift' | 'Alt')[] = []): Promise<void> {
    const p = await this.screenPoint(x, y);
    for (const k of modifiers) await this.page.keyboard.down(k);
    await this.page.mouse.click(p.x, p.y);
    for (const k of modifiers) await this.page.keyboard.up(k);
  }

  /** Page (CSS) pixel of level-0 pixel (x, y) of the open image (the view must be still). */
  async screenPoint(x: number, y: number): Promise<{ x: number; y: number }> {
    const s = await this.viewer.state();
    const box = (await this.viewer.root.locator('.canvas').boundingBox())!;
    return { x: box.x + box.width / 2 + (x - s.centerX) * s.zoom, y: box.y + box.height / 2 + (y - s.centerY) * s.zoom };
  }

  /** Alt-drags a rectangle from level-0 (x0, y0) to (x1, y1). */
  async altDrag(x0: number, y0: number, x1: number, y1: number): Promise<void> {
    const a = await this.screenPoint(x0, y0);
    const b = await this.screenPoint(x1, y1);
    await this.page.keyboard.down('Alt');
    await this.page.mouse.move(a.x, a.y);
    await this.page.mouse.down();
    await this.page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2);
    await this.page.mouse.move(b.x, b.y);
    await this.page.mouse.up();
    await this.page.keyboard.up('Alt');
  }

  /** The query markers on the slide: their level-0 boxes and where they are drawn on the page. */
  markers(): Promise<
    { box: { x: number; y: number; width: number; height: number }; screen: { x: number; y: number; width: number; height: number } }[]
  > {
    return this.page.getByTestId('query-marker').evaluateAll((els) =>
      els.map((e) => {
        const d = (e as HTMLElement).dataset;
        const r = e.getBoundingClientRect();
        return {
          box: { x: Number(d.x), y: Number(d.y), width: Number(d.width), height: Number(d.height) },
          screen: { x: r.x, y: r.y, width: r.width, height: r.height },
        };
      }),
    );
  }

  /** The map checkboxes of this panel ('pca' | 'clusters'). */
  mapToggle(id: 'pca' | 'clusters'): Locator {
    return this.panel.getByTestId(`${id}-toggle`);
  }

  /** Types k and commits it (leaves the field). */
  async setK(k: number): Promise<void> {
    const field = this.panel.getByTestId('clusters-k');
    await field.fill(String(k));
    await field.press('Tab');
  }

  /** The ranked matches once `count` are listed, best first. */
  async matches(count = 20): Promise<MatchRow[]> {
    await this.page.locator(`[data-testid="analysis-panel"][data-matches="${count}"]`).waitFor({ timeout: 30_000 });
    return this.panel
      .getByTestId('analysis-results')
      .getByTestId('match')
      .evaluateAll((els) =>
        els.map((e) => ({
          imageId: (e as HTMLElement).dataset.imageId!,
          x: Number((e as HTMLElement).dataset.x),
          y: Number((e as HTMLElement).dataset.y),
          name: e.querySelector('.name')!.textContent!.trim(),
        })),
      );
  }

  /** Clicks a match of another image; resolves with the viewer's still state once that image is open. */
  async openMatch(m: MatchRow): Promise<{ centerX: number; centerY: number }> {
    await this.panel.locator(`[data-testid="match"][data-image-id="${m.imageId}"]`).first().click();
    await this.page.locator(`[data-testid="viewer"][data-image-id="${m.imageId}"][data-ready="true"]`).waitFor();
    return this.viewer.waitStill();
  }
}
