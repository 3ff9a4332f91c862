// The Train panel (renderer/src/components/train/): setup form, run header and controls, charts, preview.
import type { Locator, Page } from 'playwright-core';

/** The advanced setup fields, by the suffix of their data-testid (adv-<field>). */
export type AdvancedField = 'batchSize' | 'globalSize' | 'localSize' | 'localCrops' | 'prototypes' | 'baseLr' | 'registers' | 'seed';

export class TrainPage {
  readonly root: Locator;
  constructor(private readonly page: Page) {
    this.root = page.getByTestId('train-panel');
  }

  /**
   * The project page at `url`, loaded afresh, with the Train panel open on its setup form; `newRun`: through
   * "New run" (past a run the panel would show first).
   */
  static async openOn(page: Page, url: string, opts: { newRun?: boolean } = {}): Promise<TrainPage> {
    await page.goto(url);
    await page.getByTestId('project-view').waitFor();
    const train = new TrainPage(page);
    await train.openSetup(opts);
    return train;
  }

  /** Opens the panel and waits for its setup form (`newRun`: through "New run"). */
  async openSetup(opts: { newRun?: boolean } = {}): Promise<Locator> {
    await this.open();
    if (opts.newRun) await this.root.getByTestId('train-new').click();
    return this.waitSetup();
  }

  async open(): Promise<void> {
    await this.page.getByTestId('train-button').click();
    await this.root.waitFor();
  }

  async close(): Promise<void> {
    await this.root.getByTestId('train-close').click();
    await this.root.waitFor({ state: 'detached' });
  }

  /** The setup form once its presets, hardware and models have loaded. */
  async waitSetup(): Promise<Locator> {
    const setup = this.root.locator('[data-testid="train-setup"][data-loaded="true"]');
    await setup.waitFor();
    return setup;
  }

  preset(name: string): Locator {
    return this.root.locator(`[data-testid="train-preset"][data-name="${name}"]`);
  }

  async choosePreset(name: string): Promise<void> {
    await this.preset(name).click();
  }

  /** A step budget of `n` (the form opens on a minutes budget). */
  async setSteps(n: number): Promise<void> {
    await this.root.getByTestId('train-budget-steps').check();
    await this.root.getByTestId('train-steps').fill(String(n));
  }

  /** Waits for the measured time estimate (a step timed by the host) and returns it. */
  async measuredTime(timeout = 90_000): Promise<{ seconds: number; text: string }> {
    const el = this.root.locator('[data-testid="train-time"][data-state="measured"]');
    await el.waitFor({ timeout });
    return { seconds: Number(await el.getAttribute('data-seconds')), text: (await el.textContent()) ?? '' };
  }

  async setAdvanced(values: Partial<Record<AdvancedField, number>>, extra?: unknown): Promise<void> {
    const adv = this.root.getByTestId('train-advanced');
    if ((await adv.getAttribute('open')) === null) await adv.locator('summary').click();
    for (const [k, v] of Object.entries(values)) await this.root.getByTestId(`adv-${k}`).fill(String(v));
    if (extra !== undefined) await this.root.getByTestId('adv-extra').fill(JSON.stringify(extra));
  }

  /** Waits for an estimate answer and returns its bytes. */
  async estimateBytes(timeout = 30_000): Promise<number> {
    const el = this.root.locator('[data-testid="train-estimate"]:not([data-bytes=""])');
    await el.waitFor({ timeout });
    return Number(await el.getAttribute('data-bytes'));
  }

  async start(): Promise<void> {
    const button = this.root.getByTestId('train-start');
    await button.click();
    await this.run().waitFor();
  }

  run(): Locator {
    return this.root.getByTestId('train-run');
  }

  async runName(): Promise<string> {
    return (await this.run().getAttribute('data-run')) ?? '';
  }

  async step(): Promise<number> {
    return Number(await this.run().getAttribute('data-step'));
  }

  async status(): Promise<string> {
    return (await this.run().getAttribute('data-status')) ?? '';
  }

  async waitStatus(status: string, timeout = 60_000): Promise<void> {
    await this.root.locator(`[data-testid="train-run"][data-status="${status}"]`).waitFor({ timeout });
  }

  /** Resolves with the step once the header shows one above `n`. */
  async waitStepAbove(n: number, timeout = 60_000): Promise<number> {
    await this.page.waitForFunction(
      (min) => Number(document.querySelector('[data-testid="train-run"]')?.getAttribute('data-step') ?? -1) > min,
      n,
      { timeout, polling: 50 },
    );
    return this.step();
  }

  /** Points drawn in the loss chart (all series together). */
  async lossPoints(): Promise<number> {
    return Number(await this.root.getByTestId('train-loss-chart').getAttribute('data-points'));
  }

  async pause(): Promise<void> {
    await this.root.getByTestId('train-pause').click();
  }

  async resume(): Promise<void> {
    await this.root.getByTestId('train-resume').click();
  }

  preview(): Locator {
    return this.root.getByTestId('train-preview');
  }
}
