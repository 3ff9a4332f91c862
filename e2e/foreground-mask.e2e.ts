// The Extract panel's foreground mask in Chromium against the serve host, on a brightfield PNG (stained
// texture on the left quarter, white glass elsewhere) and a fluorescence-like one (bright textured discs
// on black): the select offers the four settings, each with its one-line explanation; an automatic run
// lists each image's share of foreground patches with the mask it picked (brightfield, fluorescence) and
// flags those under half. Set E2E_SHOTS=<folder> to keep screenshots of the panel.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedProject } from '../core/app/fixture-service.js';
import { texture } from '../core/features/extract/fixture.js';
import { vitConfig } from '../core/model/config.js';
import { projectModelsDir } from '../core/model/manager/paths.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import type { WeightTensor } from '../core/model/weights/safetensors.js';
import { ProjectPage } from './pages/project.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();
const S = 14 * 16; // 16 × 16 patches

/** Stained texture in the left quarter, white glass elsewhere. */
function brightfield(): Uint8Array {
  const rgb = new Uint8Array(S * S * 3).fill(255);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S / 4; x++) {
      const o = 3 * (y * S + x);
      rgb[o] = 150 + Math.round(50 * Math.sin(x / 7));
      rgb[o + 1] = 60 + Math.round(40 * Math.cos(y / 5));
      rgb[o + 2] = 160;
    }
  return rgb;
}

/** Black with two bright textured discs. */
function darkField(): Uint8Array {
  const tex = texture(S, S, 4242);
  const rgb = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      if ((x - 60) ** 2 + (y - 60) ** 2 < 1600 || (x - 160) ** 2 + (y - 150) ** 2 < 2025)
        for (let c = 0; c < 3; c++) rgb[3 * (y * S + x) + c] = Math.max(90, tex[3 * (y * S + x) + c]);
  return rgb;
}

describe.skipIf(skip !== null)('the foreground mask in the Extract panel', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-foreground-'));
    const bf = join(dir, 'stained.png');
    const fl = join(dir, 'dapi.png');
    await sharp(brightfield(), { raw: { width: S, height: S, channels: 3 } })
      .png()
      .toFile(bf);
    await sharp(darkField(), { raw: { width: S, height: S, channels: 3 } })
      .png()
      .toFile(fl);
    const p = await importedProject(dir, [bf, fl]);
    await p.service.close();
    const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
    const tensors = new Map<string, WeightTensor>(
      Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
    );
    await exportWeights(join(projectModelsDir(join(dir, 'project')), 'tiny'), cfg, tensors, 'hf');
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(() => endSession({ browser, serve }, dir));

  it("offers the four settings with explanations and lists each image's foreground share after a run", async () => {
    if (skip) return;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(serve.url);
    await new ProjectPage(page).root.waitFor();
    await page.getByTestId('extract-button').click();
    await page.getByTestId('extract-device').selectOption('cpu');
    await page.locator('input[type="radio"][value="level"]').check();
    await page.getByTestId('extract-level').fill('0');
    const select = page.getByTestId('extract-mask');
    expect(await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([
      'auto',
      'off',
      'brightfield',
      'fluorescence',
    ]);
    expect(await page.getByTestId('extract-mask-explained').textContent()).toMatch(/^brightfield or fluorescence, picked per image/);
    await select.selectOption('off');
    expect(await page.getByTestId('extract-mask-explained').textContent()).toMatch(/^every patch, background included/);
    // Another mask is another feature set: the estimate names it.
    await page.locator('[data-testid="extract-estimate"]').waitFor();
    if (process.env.E2E_SHOTS)
      await page.getByTestId('extract-panel').screenshot({ path: join(process.env.E2E_SHOTS, 'extract-mask-select.png') });
    await select.selectOption('auto');
    await page.getByTestId('extract-start').click();
    const list = page.getByTestId('extract-foreground');
    await list.waitFor({ timeout: 120_000 });
    const lines = await list.locator('li').allTextContents();
    expect(lines).toHaveLength(2);
    const stained = lines.find((l) => l.startsWith('stained.png'))!;
    const dapi = lines.find((l) => l.startsWith('dapi.png'))!;
    expect(stained).toMatch(
      /^stained\.png: \d+ % of patches are foreground \(brightfield mask, picked automatically\)\. If tissue is missed, extract again with the mask Off\.$/,
    );
    expect(dapi).toMatch(/^dapi\.png: \d+ % of patches are foreground \(fluorescence mask, picked automatically\)/);
    const shares = await list.locator('li').evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-share'))));
    for (const s of shares) {
      expect(s).toBeGreaterThan(0.1);
      expect(s).toBeLessThan(0.5);
    }
    expect(await list.locator('li.low').count()).toBe(2);
    if (process.env.E2E_SHOTS)
      await page.getByTestId('extract-panel').screenshot({ path: join(process.env.E2E_SHOTS, 'extract-mask-shares.png') });
    expect(consoleErrors).toEqual([]);
  }, 240_000);
});
