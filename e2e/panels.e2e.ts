// The start screen's New-project dialog and the floating panels in Chromium (1440 × 900) against the serve
// host started on the start screen:
// - a folder path typed while the dialog's first listing is still on its way is kept: the project is
//   created there, not in the home folder the listing arrives with (a slow host, held here by delaying
//   the real listDirectory answer until the path is typed);
// - a folder entered (typed, Enter) while that first listing is on its way stays shown when the first
//   listing arrives after it;
// - a field focused with its whole text selected when that listing arrives keeps the arriving path selected,
//   so a path typed next replaces it (Playwright's fill selects, then inserts, in two steps: the race it
//   met under load, and a user's click-then-type);
// - Escape closes the topmost floating panel: the Extract panel; the file browser over the Models panel
//   first, then the Models panel; the Train panel.
// Screenshots go to $E2E_SHOTS when it is set.
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectSummary } from '../core/common/api.js';
import { FileBrowserPage } from './pages/file-browser.js';
import { ModelsPage } from './pages/models.js';
import { TrainPage } from './pages/train.js';
import { chromiumMissing } from './support/browser.js';
import { callApi, type RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

/** Opens the start screen's New-project dialog with its first folder listing (of HOME) held until
 * `release`, as a slow host would; later listings pass. `answered` settles once the held answer has been
 * handed to the page. */
async function openNewProjectHeld(
  page: Page,
  url: string,
): Promise<{ dialog: FileBrowserPage; release: () => void; answered: Promise<void> }> {
  await page.goto(url);
  await page.getByTestId('start-screen').waitFor();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let answeredNow!: () => void;
  const answered = new Promise<void>((r) => (answeredNow = r));
  let held = 0;
  await page.route('**/api/call/listDirectory', async (route: Route) => {
    if (held++ > 0) return route.continue();
    await released;
    await route.fulfill({ response: await route.fetch() });
    answeredNow();
  });
  await page.getByTestId('create-project').click();
  const dialog = new FileBrowserPage(page);
  await dialog.root.waitFor();
  return { dialog, release, answered };
}

const shots = process.env.E2E_SHOTS;

describe.skipIf(skip !== null)('New-project dialog and floating panels in Chromium', () => {
  let dir: string;
  let userHome: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-panels-'));
    // The host's file browser starts in HOME: the test's own, so a wrongly placed project stays inside it.
    userHome = join(dir, 'user');
    await mkdir(userHome);
    ({ serve, browser, page } = await startSession(null, dir, consoleErrors, { env: { HOME: userHome } }));
    await page.setViewportSize({ width: 1440, height: 900 });
    if (shots) await mkdir(shots, { recursive: true });
  });

  afterAll(() => endSession({ browser, serve }, dir));

  const shot = async (name: string): Promise<void> => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
  };

  it('a folder entered while the first listing is on its way stays shown when that listing arrives last', async () => {
    if (skip) return;
    // Hold the first listing (of HOME) until the entered folder's listing is shown, then let it arrive.
    const { dialog, ...first } = await openNewProjectHeld(page, serve.url);
    const folder = join(dir, 'entered');
    await mkdir(join(folder, 'inside'), { recursive: true });
    await dialog.goTo(folder);
    first.release();
    await first.answered;
    // Let the late answer reach the page's script before looking.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 100))));
    await page.locator(`[data-testid="fb-list"][data-path="${folder}"][data-loading="false"]`).waitFor({ timeout: 2000 });
    await expect(dialog.root.getByTestId('fb-path').inputValue()).resolves.toBe(folder);
    await expect(dialog.entry('inside').count()).resolves.toBe(1);
    await page.unroute('**/api/call/listDirectory');
    await dialog.root.getByTestId('fb-cancel').click();
    expect(consoleErrors).toEqual([]);
  });

  it('a path typed over the selected field replaces the folder the first listing puts there meanwhile', async () => {
    if (skip) return;
    // Hold the first listing (of HOME) until the empty field is focused with its text selected.
    const { dialog, ...first } = await openNewProjectHeld(page, serve.url);
    const field = dialog.root.getByTestId('fb-path');
    await field.selectText();
    first.release();
    await page.locator(`[data-testid="fb-list"][data-path="${userHome}"][data-loading="false"]`).waitFor();
    await expect(field.inputValue()).resolves.toBe(userHome);
    const folder = join(dir, 'typed-over');
    await mkdir(join(folder, 'inside'), { recursive: true });
    await page.keyboard.insertText(folder);
    await expect(field.inputValue()).resolves.toBe(folder);
    await field.press('Enter');
    await page.locator(`[data-testid="fb-list"][data-path="${folder}"][data-loading="false"]`).waitFor({ timeout: 5000 });
    await expect(dialog.entry('inside').count()).resolves.toBe(1);
    await page.unroute('**/api/call/listDirectory');
    await dialog.root.getByTestId('fb-cancel').click();
    expect(consoleErrors).toEqual([]);
  });

  it('New project: a path typed before the first folder listing arrives is where the project is created', async () => {
    if (skip) return;
    // Hold the dialog's first listing (of HOME) until the path has been typed, as a slow host would.
    const { dialog, ...first } = await openNewProjectHeld(page, serve.url);
    const folder = join(dir, 'typed-project');
    await dialog.root.getByTestId('fb-path').fill(folder);
    await shot('new-project-typed');
    first.release();
    await page.locator(`[data-testid="fb-list"][data-path="${userHome}"][data-loading="false"]`).waitFor();
    await expect(dialog.root.getByTestId('fb-path').inputValue()).resolves.toBe(folder);
    await dialog.root.getByTestId('fb-confirm').click();
    await page.getByTestId('project-view').waitFor();
    await page.unroute('**/api/call/listDirectory');
    await expect(page.getByTestId('project-name').textContent()).resolves.toBe('typed-project');
    const project = await callApi<ProjectSummary | null>(serve, 'currentProject');
    expect(project?.path).toBe(folder);
    expect((await stat(join(folder, 'project.json'))).isFile()).toBe(true);
    await expect(stat(join(userHome, 'project.json'))).rejects.toThrow();
    expect(consoleErrors).toEqual([]);
  });

  it('Escape closes the topmost floating panel', async () => {
    if (skip) return;
    // The Extract panel.
    await page.getByTestId('extract-button').click();
    const extract = page.getByTestId('extract-panel');
    await extract.waitFor();
    await shot('extract-open');
    await page.keyboard.press('Escape');
    await extract.waitFor({ state: 'detached', timeout: 5_000 });

    // The file browser over the Models panel closes first, then the Models panel.
    const models = new ModelsPage(page);
    await models.open();
    await models.root.getByTestId('models-import').click();
    const browserDialog = new FileBrowserPage(page);
    await browserDialog.root.waitFor();
    await page.keyboard.press('Escape');
    await browserDialog.root.waitFor({ state: 'detached', timeout: 5_000 });
    await expect(models.root.isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await models.root.waitFor({ state: 'detached', timeout: 5_000 });

    // The Train panel.
    const train = new TrainPage(page);
    await train.open();
    await page.keyboard.press('Escape');
    await train.root.waitFor({ state: 'detached', timeout: 5_000 });

    // The Export dialog: the folder browser over it closes first, then the dialog.
    await page.getByTestId('export-button').click();
    const exportDialog = page.getByTestId('export-dialog');
    await exportDialog.waitFor();
    await exportDialog.getByTestId('export-browse').click();
    await browserDialog.root.waitFor();
    await page.keyboard.press('Escape');
    await browserDialog.root.waitFor({ state: 'detached', timeout: 5_000 });
    await expect(exportDialog.isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await exportDialog.waitFor({ state: 'detached', timeout: 5_000 });
    await expect(page.getByTestId('project-view').isVisible()).resolves.toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});

if (skip) it(`browser e2e skipped: ${skip}`, () => undefined);
