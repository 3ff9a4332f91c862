// The Models panel (renderer/src/components/models/).
import type { Locator, Page } from 'playwright-core';
import { FileBrowserPage } from './file-browser.js';

export class ModelsPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('models-panel');
  }

  async open(): Promise<void> {
    await this.page.getByTestId('models-button').click();
    await this.page.locator('[data-testid="models-panel"][data-loading="false"]').waitFor();
  }

  row(id: string): Locator {
    return this.root.locator(`[data-testid="model-row"][data-id="${id}"]`);
  }

  catalogueRow(id: string): Locator {
    return this.root.locator(`[data-testid="catalogue-row"][data-id="${id}"]`);
  }

  /** Imports a file or folder through the host's file browser (a folder: confirm with nothing selected). */
  async importFolder(folder: string): Promise<void> {
    await this.root.getByTestId('models-import').click();
    const dialog = new FileBrowserPage(this.page);
    await dialog.root.waitFor();
    await dialog.goTo(folder);
    await dialog.confirm();
  }

  async downloadUrl(url: string): Promise<void> {
    await this.root.getByTestId('models-url').fill(url);
    await this.root.getByTestId('models-url-download').click();
  }

  async remove(id: string): Promise<void> {
    await this.row(id).getByTestId('model-delete').click();
    await this.row(id).getByTestId('model-delete-confirm').click();
    await this.row(id).waitFor({ state: 'detached' });
  }
}
