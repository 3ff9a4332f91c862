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

/** Bytes a test drops onto the window, as the browser would hand them over. */
export interface DropFile {
  name: string;
  base64: string;
  type: string;
}

/** Dispatches dragenter, dragover and drop carrying `files` on the project view (a DataTransfer built in
 * the page: the same events a user's drag from the desktop produces). */
export async function dropFiles(page: Page, files: DropFile[]): Promise<void> {
  await page.getByTestId('project-view').evaluate((el, list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    for (const type of ['dragenter', 'dragover', 'drop'])
      el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}
