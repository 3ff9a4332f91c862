// `dinoscope import` and `dinoscope serve` through the CLI entry (runCli), as a user runs them.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../common/api.js';
import type { CliIo } from '../command.js';
import { runCli } from '../main.js';

let root: string;

function io(signal: AbortSignal = new AbortController().signal): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), signal };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-cli-import-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 120, g: 30, b: 60 } } })
    .png()
    .toFile(join(root, 'one.png'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dinoscope import', () => {
  it('creates the project, says so on stderr and prints the report as JSON', async () => {
    const o = io();
    expect(await runCli(['import', join(root, 'proj'), join(root, 'one.png'), join(root, 'absent.png')], o)).toBe(0);
    expect(o.err.join('')).toContain(`created a new project in ${join(root, 'proj')}`);
    const report = JSON.parse(o.out.join('')) as ImportReport;
    expect(report.added.map((a) => [a.name, a.status])).toEqual([['one.png', 'ok']]);
    expect(report.failed).toEqual([{ path: join(root, 'absent.png'), reason: `${join(root, 'absent.png')} does not exist.` }]);
    expect(JSON.parse(await readFile(join(root, 'proj', 'project.json'), 'utf8')).images).toHaveLength(1);
    const again = io();
    expect(await runCli(['import', join(root, 'proj'), join(root, 'one.png')], again)).toBe(0);
    expect(again.err.join('')).not.toContain('created');
    expect((JSON.parse(again.out.join('')) as ImportReport).skipped).toEqual([join(root, 'one.png')]);
  });

  it('exits 2 naming the paths when none exists, and on a bad project path', async () => {
    const o = io();
    expect(await runCli(['import', join(root, 'p2'), join(root, 'gone.png')], o)).toBe(2);
    expect(o.err.join('')).toContain(join(root, 'gone.png'));
    expect(o.err.join('').trim().split('\n')).toHaveLength(1);
    const f = io();
    expect(await runCli(['import', join(root, 'one.png'), join(root, 'one.png')], f)).toBe(2);
    expect(f.err.join('')).toContain('is a file, not a project folder');
    expect(await runCli(['import', join(root, 'p3')], io())).toBe(2);
  });
});

describe('dinoscope serve', () => {
  it('prints {url, port, token} with --json, serves, and stops on the signal', async () => {
    const stop = new AbortController();
    const o = io(stop.signal);
    const done = runCli(['serve', '--port', '0', '--json', '--project', join(root, 'proj')], o);
    for (let i = 0; i < 200 && o.out.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const info = JSON.parse(o.out.join('')) as { url: string; port: number; token: string };
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/?token=${info.token}`);
    const res = await fetch(`http://127.0.0.1:${info.port}/api/call/currentProject`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${info.token}`, 'Content-Type': 'application/json' },
      body: '[]',
    });
    expect(((await res.json()) as { ok: { path: string } }).ok.path).toBe(join(root, 'proj'));
    expect((await fetch(`http://127.0.0.1:${info.port}/`)).status).toBe(401);
    stop.abort();
    expect(await done).toBe(0);
    await expect(fetch(`http://127.0.0.1:${info.port}/`)).rejects.toThrow();
  });

  it('exits 2 on a bad port', async () => {
    const o = io();
    expect(await runCli(['serve', '--port', 'eighty'], o)).toBe(2);
    expect(o.err.join('')).toContain('--port');
  });
});
