// Debian's Chromium driven by playwright-core (never a downloaded browser), headless and offline.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

export function chromiumMissing(): string | null {
  return existsSync(chromiumPath) ? null : `${chromiumPath} is missing: apt-get install -y chromium`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
