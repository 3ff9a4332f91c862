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
  async clickImagePoint(x: number, y: number): Promise<void> {
    const s = await this.viewer.state();
    const box = (await this.viewer.root.locator('.canvas').boundingBox())!;
    await this.page.mouse.click(box.x + box.width / 2 + (x - s.centerX) * s.zoom, box.y + box.height / 2 + (y - s.centerY) * s.zoom);
  }

  /** The ranked matches once `count` are listed, best first. */
  async matches(count = 20): Promise<MatchRow[]> {
    await this.page.locator(`[data-testid="analysis-panel"][data-matches="${count}"]`).waitFor({ timeout: 30_000 });
    return this.panel.getByTestId('analysis-results').getByTestId('match').evaluateAll((els) =>
      els.map((e) => ({ imageId: (e as HTMLElement).dataset.imageId!, x: Number((e as HTMLElement).dataset.x), y: Number((e as HTMLElement).dataset.y), name: e.querySelector('.name')!.textContent!.trim() })),
    );
  }

  /** Clicks a match of another image; resolves with the viewer's still state once that image is open. */
  async openMatch(m: MatchRow): Promise<{ centerX: number; centerY: number }> {
    await this.panel.locator(`[data-testid="match"][data-image-id="${m.imageId}"]`).first().click();
    await this.page.locator(`[data-testid="viewer"][data-image-id="${m.imageId}"][data-ready="true"]`).waitFor();
    return this.viewer.waitStill();
  }
}
