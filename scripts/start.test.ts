// `npm start` where Electron's binary is missing: it says so and serves the UI, token and all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installedElectron, resolveElectron, root, splitArgs, staleTargets } from './start.mjs';

let dir: string;
let children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dinoscope-start-'));
  await mkdir(path.join(dir, 'no-electron'));
});

afterEach(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) continue;
    const exited = new Promise((r) => c.once('exit', r));
    process.kill(-c.pid, 'SIGTERM'); // the whole group we started: npm, start.mjs, dinoscope serve
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid, 'SIGKILL');
  }
  children = [];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `npm start -- <args>` in its own process group and resolves with the served URL. */
function npmStart(env: Record<string, string>, args: string[]): Promise<{ url: string; stdout: string; stderr: string }> {
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Guarantee "binary missing" even where one is installed, and never download.
      ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'no-electron'),
      DINOSCOPE_HOME: path.join(dir, 'home'),
      // Built by `npm install`/`npm run build`; rebuilding the renderer here would cost the suite a minute.
      DINOSCOPE_NO_BUILD: '1',
      ...env,
    },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 60 s.\nstdout: ${stdout}\nstderr: ${stderr}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/\S*token=\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stdout, stderr });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before printing a URL.\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

async function expectServesWithToken(url: string): Promise<void> {
  const u = new URL(url);
  const token = u.searchParams.get('token');
  expect(token).toBeTruthy();
  // With the token: the page (directly, or via a redirect that stores it in a cookie).
  const first = await fetch(url, { redirect: 'manual' });
  let page = first;
  if (first.status === 302) {
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toContain(token);
    page = await fetch(new URL(first.headers.get('location') ?? '/', u.origin), { headers: { cookie } });
  }
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="app">');
  // Without it: refused.
  const anonymous = await fetch(`${u.origin}/`, { redirect: 'manual' });
  expect(anonymous.status).toBe(401);
  await anonymous.body?.cancel();
}

describe('npm start', () => {
  it('says the Electron binary is missing and serves the UI to the browser instead', async () => {
    const { url, stderr } = await npmStart({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }, ['--port', '0']);
    expect(stderr).toContain(
      "Electron's binary is not installed and could not be downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD is set); serving the same UI to your browser instead",
    );
    await expectServesWithToken(url);
  });

  it('goes straight to the browser with DINOSCOPE_SERVE=1', async () => {
    const { url, stderr } = await npmStart({ DINOSCOPE_SERVE: '1' }, ['--port=0', '--host', '127.0.0.1']);
    expect(stderr).toContain('DINOSCOPE_SERVE=1');
    expect(stderr).not.toContain('could not be downloaded');
    await expectServesWithToken(url);
  });
});

describe('start helpers', () => {
  it('finds an installed binary through ELECTRON_OVERRIDE_DIST_PATH, and reports a skipped download', async () => {
    const dist = path.join(dir, 'fake-dist');
    await mkdir(dist);
    expect(installedElectron(root, { ELECTRON_OVERRIDE_DIST_PATH: dist })).toBeNull();
    expect(resolveElectron(root, { ELECTRON_OVERRIDE_DIST_PATH: dist, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }, 1000)).toEqual({
      reason: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set',
    });
    await writeFile(path.join(dist, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveElectron(root, { ELECTRON_OVERRIDE_DIST_PATH: dist }, 1000)).toEqual({ path: path.join(dist, 'electron') });
  });

  it('rebuilds targets whose outputs are missing or older than their sources', async () => {
    const base = path.join(dir, 'tree');
    for (const f of [
      'core/a.ts',
      'core/common/b.ts',
      'electron/main/main.ts',
      'renderer/src/App.svelte',
      'bin/dinoscope.js',
      'scripts/build.mjs',
      'package.json',
    ]) {
      await mkdir(path.dirname(path.join(base, f)), { recursive: true });
      await writeFile(path.join(base, f), '');
    }
    const all = ['cli', 'electron', 'renderer'];
    expect(staleTargets(base, all)).toEqual(all);
    const old = new Date(Date.now() - 60_000);
    for (const f of [
      'core/a.ts',
      'core/common/b.ts',
      'electron/main/main.ts',
      'renderer/src/App.svelte',
      'bin/dinoscope.js',
      'scripts/build.mjs',
      'package.json',
    ])
      await utimes(path.join(base, f), old, old);
    for (const f of ['dist/cli/main.js', 'dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/renderer/index.html']) {
      await mkdir(path.dirname(path.join(base, f)), { recursive: true });
      await writeFile(path.join(base, f), '');
    }
    expect(staleTargets(base, all)).toEqual([]);
    // Edits are dated explicitly: file times tick coarsely, and the outputs were written a moment ago.
    const later = new Date(Date.now() + 60_000);
    // A test file is not a source of the build.
    await writeFile(path.join(base, 'core/a.test.ts'), '');
    await utimes(path.join(base, 'core/a.test.ts'), later, later);
    expect(staleTargets(base, all)).toEqual([]);
    // core/common feeds every target; electron/ only its own.
    await writeFile(path.join(base, 'electron/main/main.ts'), '// changed');
    await utimes(path.join(base, 'electron/main/main.ts'), later, later);
    expect(staleTargets(base, all)).toEqual(['electron']);
    expect(staleTargets(base, all, { missingOnly: true })).toEqual([]);
    await writeFile(path.join(base, 'core/common/b.ts'), '// changed');
    await utimes(path.join(base, 'core/common/b.ts'), later, later);
    expect(staleTargets(base, all)).toEqual(all);
  });

  it('splits serve flags from Electron flags', () => {
    expect(splitArgs(['--project', 'p', '--port=9000', '--inspect'])).toEqual({
      serve: ['--project', 'p', '--port', '9000'],
      electron: [`--project=${path.resolve('p')}`, '--inspect'],
    });
    expect(() => splitArgs(['--port'])).toThrow(/--port needs a value/);
  });
});
