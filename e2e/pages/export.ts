// The Export dialog (renderer/src/components/export/ExportDialog.svelte): open it, choose the format, what,
// images and folder, run it and read the files it reports.
import type { Locator, Page } from 'playwright-core';
import { FileBrowserPage } from './file-browser.js';

export interface ExportDone {
  dir: string;
  paths: string[];
  notice: string | null;
}

export class ExportPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('export-dialog');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('export-button').click();
    await this.root.waitFor();
  }

  async choose(o: { format: string; what?: string; k?: number; scope?: 'current' | 'all'; ppp?: number }): Promise<void> {
    await this.root.getByTestId(`export-format-${o.format}`).check();
    if (o.what) await this.root.getByTestId(`export-what-${o.what}`).check();
    if (o.k !== undefined) await this.root.getByTestId('export-k').fill(String(o.k));
    if (o.scope) await this.root.getByTestId(`export-scope-${o.scope}`).check();
    if (o.ppp !== undefined) await this.root.getByTestId('export-ppp').fill(String(o.ppp));
  }

  /** Picks the destination through the host's file browser. */
  async chooseFolder(folder: string): Promise<void> {
    await this.root.getByTestId('export-browse').click();
    const fb = new FileBrowserPage(this.page);
    await fb.root.waitFor();
    await fb.goTo(folder);
    await fb.confirm();
  }

  /** Starts recording every text the progress line shows (read with progressSeen). */
  async watchProgress(): Promise<void> {
    await this.page.evaluate(() => {
      const w = window as unknown as { exportProgress: string[] };
      w.exportProgress = [];
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid="export-progress"]')?.textContent?.trim();
        if (t && w.exportProgress[w.exportProgress.length - 1] !== t) w.exportProgress.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  }

  progressSeen(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { exportProgress: string[] }).exportProgress);
  }

  /** Runs the export; resolves with what the done notice lists. */
  async run(timeout = 60_000): Promise<ExportDone> {
    await this.root.getByTestId('export-start').click();
    const done = this.root.getByTestId('export-done');
    await done.waitFor({ timeout });
    const notice = this.root.getByTestId('export-notice');
    return {
      dir: (await done.getAttribute('data-dir'))!,
      paths: await done.getByTestId('export-file').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.path!)),
      notice: (await notice.count()) ? await notice.textContent() : null,
    };
  }

  async close(): Promise<void> {
    await this.root.getByRole('button', { name: 'Close' }).click();
    await this.root.waitFor({ state: 'detached' });
  }
}
