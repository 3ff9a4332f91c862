// The project view: collection sidebar, import and jobs.
import type { Locator, Page } from 'playwright-core';
import { FileBrowserPage } from './file-browser.js';

export class ProjectPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('project-view');
  }

  async openImportDialog(): Promise<FileBrowserPage> {
    await this.page.getByTestId('import-button').click();
    const dialog = new FileBrowserPage(this.page);
    await dialog.root.waitFor();
    return dialog;
  }

  card(name: string): Locator {
    return this.page.locator(`[data-testid="image-card"][data-name="${name}"]`);
  }

  async waitForStatus(name: string, status: string, timeout = 120_000): Promise<void> {
    await this.page.locator(`[data-testid="image-card"][data-name="${name}"][data-status="${status}"]`).waitFor({ timeout });
  }
}
