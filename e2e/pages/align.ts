// The "Align text (LiT)…" dialog of a model (renderer/src/components/models/AlignDialog.svelte).
import type { Locator, Page } from 'playwright-core';
import { FileBrowserPage } from './file-browser.js';

export class AlignPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('align-dialog');
  }

  /** Chooses a file through the host's file browser (the browser build's "Choose…"). */
  async choose(what: 'pairs' | 'vocab', folder: string, file: string): Promise<void> {
    await this.root.getByTestId(`align-${what}-choose`).click();
    const dialog = new FileBrowserPage(this.page);
    await dialog.root.waitFor();
    await dialog.goTo(folder);
    await dialog.pick(file);
    await dialog.confirm();
  }

  field(name: 'pairs' | 'vocab' | 'steps' | 'text-dim' | 'text-depth'): Locator {
    return this.root.getByTestId(`align-${name}`);
  }

  /** What the path field says is wrong with its path (PathField). */
  problem(name: 'pairs' | 'vocab'): Locator {
    return this.root.getByTestId(`align-${name}-problem`);
  }

  get start(): Locator {
    return this.root.getByTestId('align-start');
  }
}
