// One browser session per e2e file: the serve host (the CLI and renderer the run's global setup built) on a
// project (or the start screen) with its home folder inside the test's temp folder, and Chromium on a page that records console
// errors. endSession closes what was opened (also after a half-finished start) and removes the folder.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './browser.js';
import { startServe, type RunningServe } from './serve.js';

export interface BrowserSession {
  serve: RunningServe;
  browser: Browser;
  page: Page;
}

/** `env` goes to the host (startServe). */
export async function startSession(
  project: string | null,
  dir: string,
  consoleErrors: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<BrowserSession> {
  const serve = await startServe(project, join(dir, 'home'), opts.env);
  try {
    const browser = await launchChromium();
    return { serve, browser, page: await openPage(browser, consoleErrors) };
  } catch (e) {
    await serve.stop();
    throw e;
  }
}

export async function endSession(s: { browser?: Browser; serve?: RunningServe }, dir: string | undefined): Promise<void> {
  await s.browser?.close();
  await s.serve?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
