// The Electron app end to end (Playwright's _electron), where Electron's binary is installed. Where it is
// not (no internet to download it, ELECTRON_SKIP_BINARY_DOWNLOAD), or there is no display, the test is
// skipped with the reason printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProjectSummary } from '../core/common/api.js';
import type { DinoscopeBridge } from '../core/common/bridge.js';
import { contentSecurityPolicy } from '../electron/main/csp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Electron's binary as node_modules/electron/path.txt names it, if it is there. */
function electronBinary(): string | null {
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();
const built = ['dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/renderer/index.html'].every((f) =>
  existsSync(path.join(root, f)),
);
const xvfb = ['/usr/bin/Xvfb', '/usr/local/bin/Xvfb'].find((p) => existsSync(p)) ?? null;
const display = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) || xvfb !== null;
const skipReason = !binary
  ? "Electron's binary is not installed (node_modules/electron/path.txt or its dist/ file is missing; it downloads on first `npm start` where there is internet)"
  : !built
    ? 'dist/ lacks the Electron or renderer build (run `npm run build`)'
    : !display
      ? 'there is no display (DISPLAY unset and no Xvfb installed)'
      : null;
const hasElectron = skipReason === null;
if (!hasElectron) console.warn(`electron.e2e: skipped — ${skipReason}.`);

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** An Xvfb display for headless Linux; returns its DISPLAY value. */
async function virtualDisplay(): Promise<string> {
  const number = 90 + Math.floor(Math.random() * 400);
  const x: ChildProcess = spawn(xvfb as string, [`:${number}`, '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  cleanups.push(() => void x.kill('SIGTERM'));
  await new Promise((r) => setTimeout(r, 1000));
  return `:${number}`;
}

type BridgeWindow = Window & { dinoscope?: DinoscopeBridge; require?: unknown; process?: unknown; module?: unknown; Buffer?: unknown };

describe('Electron app', () => {
  it.skipIf(!hasElectron)('opens a secure window with the bridge, a CSP, and a working API', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-electron-e2e-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      DINOSCOPE_HOME: path.join(dir, 'home'),
      DINOSCOPE_USER_DATA: path.join(dir, 'user-data'),
    };
    delete env.ELECTRON_RUN_AS_NODE;
    if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) env.DISPLAY = await virtualDisplay();

    const app = await _electron.launch({ executablePath: binary as string, args: [root], cwd: root, env, timeout: 60_000 });
    cleanups.push(() => app.close());
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toMatch(/^dinoscope:\/\/app\//);

    // One window (single instance), showing the app.
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()));
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatch(/^dinoscope:\/\/app\//);

    // The page: one bridge, nothing of Node.
    const globals = await page.evaluate(() => {
      const w = window as BridgeWindow;
      return {
        bridge: w.dinoscope ? Object.keys(w.dinoscope).sort() : null,
        require: typeof w.require,
        process: typeof w.process,
        module: typeof w.module,
        Buffer: typeof w.Buffer,
      };
    });
    expect(globals).toEqual({
      bridge: ['call', 'on', 'pathsForFiles'],
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
      Buffer: 'undefined',
    });

    // Every response of the scheme carries the CSP.
    const csp = await page.evaluate(async () => (await fetch('dinoscope://app/index.html')).headers.get('content-security-policy'));
    expect(csp).toBe(contentSecurityPolicy);

    // The API over IPC: create a project; an error keeps its code.
    const projectDir = path.join(dir, 'project');
    const summary = await page.evaluate((p) => (window as BridgeWindow).dinoscope?.call('createProject', p, 'Electron e2e'), projectDir);
    expect(summary as ProjectSummary).toMatchObject({ path: projectDir, name: 'Electron e2e', images: [] });
    expect(existsSync(path.join(projectDir, 'project.json'))).toBe(true);
    const error = await page.evaluate(() =>
      (window as BridgeWindow).dinoscope?.call('openProject', 'relative/path').then(
        () => null,
        (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
      ),
    );
    expect(error).toMatchObject({ code: 'BAD_INPUT' });

    // Navigation away from the app is refused.
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toMatch(/^dinoscope:\/\/app\//);
  });
});
