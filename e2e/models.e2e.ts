// The Models panel in Chromium against the serve host: the catalogue (gated DINOv3 needs a token), import
// of an HF model folder through the host's file browser, a URL download with progress from a local HTTP
// server, and delete. The models live in DINOSCOPE_HOME/models of a temp folder.
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitConfig } from '../core/model/config.js';
import { initParams } from '../core/model/params.js';
import { exportWeights } from '../core/model/weights/export.js';
import { ModelsPage } from './pages/models.js';
import { chromiumMissing } from './support/browser.js';
import type { RunningServe } from './support/serve.js';
import { endSession, startSession } from './support/session.js';

const skip = chromiumMissing();

describe.skipIf(skip !== null)('Models panel (serve host, Chromium)', () => {
  let dir: string;
  let serve: RunningServe;
  let browser: Browser;
  let page: Page;
  let http: Server;
  let base = '';
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dinoscope-e2e-models-'));
    const v2 = vitConfig('tiny', { depth: 2, arch: 'dinov2', registers: 4, posEmbed: { gridSize: 4 } });
    const v3 = vitConfig('tiny', { depth: 2, arch: 'dinov3', registers: 2 });
    const canonical = (c: typeof v2, seed: number): Map<string, { shape: number[]; data: Float32Array }> =>
      new Map(Object.entries(initParams(c, seed)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
    await exportWeights(join(dir, 'src', 'hf-v2'), v2, canonical(v2, 1), 'hf');
    await exportWeights(join(dir, 'served'), v3, canonical(v3, 2), 'hf');
    const weights = await readFile(join(dir, 'served', 'model.safetensors'));
    const config = await readFile(join(dir, 'served', 'config.json'));
    // Streams the weights in 64 KB steps so the download shows progress for a moment.
    http = createServer((req, res) => {
      if (req.url === '/m/config.json') return void res.writeHead(200).end(config);
      if (req.url !== '/m/tiny-v3.safetensors') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': weights.length });
      let at = 0;
      const step = (): void => {
        if (res.destroyed) return;
        if (at >= weights.length) return void res.end();
        res.write(weights.subarray(at, at + 65536));
        at += 65536;
        setTimeout(step, 15);
      };
      step();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const a = http.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    ({ serve, browser, page } = await startSession(join(dir, 'project'), dir, consoleErrors));
  });

  afterAll(async () => {
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await endSession({ browser, serve }, dir);
  });

  it('lists the catalogue, imports a folder, downloads a URL with progress, and deletes', async () => {
    await page.goto(serve.url);
    await page.getByTestId('project-view').waitFor();
    const models = new ModelsPage(page);
    await models.open();

    // Catalogue: six checkpoints; DINOv3 is gated and needs a token before Download is enabled.
    await expect.poll(() => models.root.getByTestId('catalogue-row').count()).toBe(6);
    const v3 = models.catalogueRow('dinov3-vits16');
    expect(await v3.getAttribute('data-gated')).toBe('true');
    expect(await v3.getByTestId('catalogue-note').textContent()).toMatch(/accept the DINOv3 License/);
    expect(await v3.getByTestId('catalogue-download').isDisabled()).toBe(true);
    await v3.getByTestId('catalogue-token').fill('hf_dummy');
    expect(await v3.getByTestId('catalogue-download').isDisabled()).toBe(false);
    expect(await models.catalogueRow('dinov2-reg-small').getByTestId('catalogue-download').isDisabled()).toBe(false);

    await models.importFolder(join(dir, 'src', 'hf-v2'));
    await models.root
      .locator('[data-testid="model-row"][data-id="hf-v2"][data-arch="dinov2"][data-registers="4"][data-location="user"]')
      .waitFor();
    expect(await models.row('hf-v2').textContent()).toMatch(/DINOv2 · ViT-Ti\/14 · 2 blocks · 4 registers/);

    await models.downloadUrl(`${base}/m/tiny-v3.safetensors`);
    await models.root.locator('[data-testid="model-job"][data-state="running"]').waitFor();
    await models.root
      .locator('[data-testid="model-row"][data-id="tiny-v3"][data-arch="dinov3"][data-registers="2"]')
      .waitFor({ timeout: 60_000 });
    expect(await models.row('tiny-v3').textContent()).toMatch(/hf-dinov3 · from http:\/\/127\.0\.0\.1:\d+\/m\/tiny-v3\.safetensors/);

    await models.remove('hf-v2');
    expect(await models.root.getByTestId('model-row').count()).toBe(1);
    // A bad URL is refused with the server's sentence.
    await models.downloadUrl(`${base}/m/missing.safetensors`);
    await models.root.getByTestId('models-error').waitFor();
    expect(await models.root.getByTestId('models-error').textContent()).toMatch(/HTTP 404 \(no such file\)/);
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
