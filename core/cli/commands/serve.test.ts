// `dinoscope serve` through the built CLI: both links as JSON on stdout, fresh tokens each start without
// token files, the same tokens across a restart with them (the files written owner-only), and a token
// file that holds no token refused with exit 2 and one sentence naming the flag.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-serve-cli-'));
const env = { ...process.env, DINOSCOPE_HOME: join(dir, 'home') };

interface Links {
  url: string;
  viewerUrl: string;
  port: number;
  token: string;
  viewerToken: string;
}

/** Starts serve with `args`, reads its stdout line, stops it (SIGTERM) and waits for its exit. */
async function serveOnce(args: string[]): Promise<{ links: Links; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout }).once('line', resolveLine);
    void exited.then((code) => reject(new Error(`serve exited (${code}) before printing:\n${stderr}`)));
  });
  child.kill('SIGTERM');
  return { links: JSON.parse(line) as Links, stderr, code: await exited };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dinoscope serve links and token files', () => {
  it('prints both links as JSON, with fresh tokens each start when no file is given', async () => {
    const a = await serveOnce([]);
    const b = await serveOnce([]);
    expect(a.code).toBe(0);
    expect(a.links.url).toBe(`http://127.0.0.1:${a.links.port}/?token=${a.links.token}`);
    expect(a.links.viewerUrl).toBe(`http://127.0.0.1:${a.links.port}/?token=${a.links.viewerToken}`);
    expect(a.links.token).not.toBe(a.links.viewerToken);
    expect(b.links.token).not.toBe(a.links.token);
    expect(b.links.viewerToken).not.toBe(a.links.viewerToken);
    expect(a.stderr).toContain('viewer (read-only)');
  }, 120_000);

  it('keeps the tokens across a restart in the files asked for, written owner-only', async () => {
    const editorFile = join(dir, 'editor.token');
    const viewerFile = join(dir, 'viewer.token');
    const flags = ['--token-file', editorFile, '--viewer-token-file', viewerFile];
    const first = await serveOnce(flags);
    expect(first.stderr).toContain(`wrote a new token to ${viewerFile}`);
    expect(statSync(viewerFile).mode & 0o077).toBe(0);
    expect(readFileSync(viewerFile, 'utf8').trim()).toBe(first.links.viewerToken);
    const second = await serveOnce(flags);
    expect(second.links.token).toBe(first.links.token);
    expect(second.links.viewerToken).toBe(first.links.viewerToken);
    expect(second.stderr).not.toContain('wrote a new token');
  }, 120_000);

  it('refuses a token file that holds no token, and one file for both tokens (exit 2)', () => {
    const bad = join(dir, 'bad.token');
    writeFileSync(bad, 'short\n');
    const r = spawnSync(process.execPath, [bin, 'serve', '--port', '0', '--viewer-token-file', bad], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`--viewer-token-file: ${bad} does not hold a token`);
    const same = join(dir, 'same.token');
    const s = spawnSync(process.execPath, [bin, 'serve', '--port', '0', '--token-file', same, '--viewer-token-file', same], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('hold the same token');
  }, 120_000);
});
