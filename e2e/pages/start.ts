// The start screen: create, open, recent projects, the demo.
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

  /** Clicks "Try the demo" and waits for its progress row. */
  async startDemo(): Promise<void> {
    await this.page.getByTestId('try-demo').click();
    await this.page.getByTestId('demo-progress').waitFor();
  }

  /** The demo's phase message while it runs. */
  demoPhase(): Promise<string | null> {
    return this.page.getByTestId('demo-phase').textContent();
  }

  /** Cancels the running demo and waits for the start screen's "cancelled" note. */
  async cancelDemo(): Promise<void> {
    await this.page.locator('[data-testid="demo-cancel"]:not([disabled])').click();
    await this.page.getByTestId('demo-cancelled').waitFor({ timeout: 60_000 });
  }
}
