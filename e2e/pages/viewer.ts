// The deep-zoom viewer: its state is read from data-* attributes on [data-testid=viewer].
import type { Locator, Page } from 'playwright-core';

export interface ViewerSnapshot {
  zoom: number;
  centerX: number;
  centerY: number;
  tilesLoaded: number;
  tilesFailed: number;
  overlayTilesLoaded: number;
  width: number;
  height: number;
}

export class ViewerPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('viewer');
  }

  async waitReady(): Promise<void> {
    await this.page.locator('[data-testid="viewer"][data-ready="true"]').waitFor({ timeout: 60_000 });
  }

  async state(): Promise<ViewerSnapshot> {
    return this.root.evaluate((el: HTMLElement) => {
      const d = el.dataset;
      const canvas = el.querySelector('.canvas') as HTMLElement;
      return {
        zoom: Number(d.zoom),
        centerX: Number(d.centerX),
        centerY: Number(d.centerY),
        tilesLoaded: Number(d.tilesLoaded),
        tilesFailed: Number(d.tilesFailed),
        overlayTilesLoaded: Number(d.overlayTilesLoaded),
        width: canvas.clientWidth,
        height: canvas.clientHeight,
      };
    });
  }

  /** Waits until the zoom has settled near `target` (animations end), within 2 %. */
  async waitZoom(target: number, timeout = 20_000): Promise<ViewerSnapshot> {
    const start = Date.now();
    let s = await this.state();
    while (Date.now() - start < timeout) {
      s = await this.state();
      if (Math.abs(s.zoom / target - 1) < 0.02) return s;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`zoom stayed at ${s.zoom}, expected ${target}`);
  }

  /** Waits until the view stops moving (two reads 300 ms apart agree). */
  async waitStill(timeout = 20_000): Promise<ViewerSnapshot> {
    const start = Date.now();
    let a = await this.state();
    const seen = [a];
    while (Date.now() - start < timeout) {
      await this.page.waitForTimeout(300);
      const b = await this.state();
      if (b.zoom === a.zoom && b.centerX === a.centerX && b.centerY === a.centerY) return b;
      seen.push(b);
      a = b;
    }
    // What moved, so a failure says whether the view animated, was panned or was resized.
    const last = seen.slice(-6).map((s) => `zoom ${s.zoom} centre ${s.centerX},${s.centerY} canvas ${s.width}×${s.height}`);
    throw new Error(`the view kept moving (${seen.length} reads); the last:\n${last.join('\n')}`);
  }

  async press(key: string, times = 1): Promise<void> {
    await this.root.locator('.canvas').hover();
    for (let i = 0; i < times; i++) await this.page.keyboard.press(key);
  }

  navigator(): Locator {
    return this.root.getByTestId('navigator');
  }

  layer(name: string): Locator {
    return this.root.locator('[data-testid="layer"]', { hasText: name });
  }

  /** A layer of the layers panel by its overlay id ('tissue', 'similarity', 'pca', 'clusters', …). */
  layerById(id: string): Locator {
    return this.root.locator(`[data-testid="layer"][data-layer-id="${id}"]`);
  }

  /** Waits until layer `id` is listed with data-visible = `visible`. */
  async waitLayer(id: string, visible: boolean, timeout = 30_000): Promise<void> {
    await this.root.locator(`[data-testid="layer"][data-layer-id="${id}"][data-visible="${visible}"]`).waitFor({ timeout });
  }
}
