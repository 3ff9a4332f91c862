// The serve host's file browser dialog (renderer/src/components/common/FileBrowserDialog.svelte).
import type { Locator, Page } from 'playwright-core';

export class FileBrowserPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('file-browser');
  }

  async goTo(folder: string): Promise<void> {
    const field = this.root.getByTestId('fb-path');
    await field.fill(folder);
    await field.press('Enter');
    await this.root.locator(`[data-testid="fb-list"][data-path="${folder}"][data-loading="false"]`).waitFor();
  }

  entry(name: string): Locator {
    return this.root.locator(`[data-testid="fb-entry"][data-name="${name}"]`);
  }

  async pick(name: string): Promise<void> {
    await this.entry(name).click();
    await this.root.locator(`[data-testid="fb-entry"][data-name="${name}"][data-selected="true"]`).waitFor();
  }

  async confirm(): Promise<void> {
    await this.root.getByTestId('fb-confirm').click();
    await this.root.waitFor({ state: 'detached' });
  }
}
