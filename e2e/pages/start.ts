// The start screen: create, open, recent projects.
import type { Locator, Page } from 'playwright-core';
import { FileBrowserPage } from './file-browser.js';

export class StartPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('start-screen');
  }

  async createProjectAt(folder: string): Promise<void> {
    await this.page.getByTestId('create-project').click();
    const dialog = new FileBrowserPage(this.page);
    await dialog.root.waitFor();
    await dialog.root.getByTestId('fb-path').fill(folder);
    await dialog.root.getByTestId('fb-confirm').click();
    await this.page.getByTestId('project-view').waitFor();
  }
}
