// scripts/build.mjs replaces each output by renaming a finished file over it: a CLI or worker thread that
// starts during a build (test files run in parallel; a developer rebuilds while the app runs) reads the old
// file or the new one, never a truncated one.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

it('swaps every dist/cli output in whole: a file opened before the build still reads in full afterwards', () => {
  const main = join(root, 'dist/cli/main.js');
  const before = statSync(main);
  const fd = openSync(main, 'r');
  try {
    const r = spawnSync(process.execPath, ['scripts/build.mjs', 'cli'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(main).ino).not.toBe(before.ino); // a new file took the name; the old one was not rewritten in place
    expect(fstatSync(fd).size).toBe(before.size);
    const old = Buffer.alloc(before.size);
    expect(readSync(fd, old, 0, before.size, 0)).toBe(before.size);
    expect(old.subarray(0, 6).toString()).toBe('import');
  } finally {
    closeSync(fd);
  }
  expect(readdirSync(join(root, 'dist/cli')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}, 120_000);

it('builds the production UI whatever NODE_ENV its caller has (vitest sets "test")', () => {
  const r = spawnSync(process.execPath, ['scripts/build.mjs', 'renderer'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'test' },
  });
  expect(r.status, r.stderr).toBe(0);
  const assets = join(root, 'dist/renderer/assets');
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  expect(js.length).toBeGreaterThan(0);
  // Svelte's development runtime captures a stack on every state change (shared/dev.js raises
  // Error.stackTraceLimit for it); the production runtime has none of it.
  for (const f of js) expect(readFileSync(join(assets, f), 'utf8').includes('stackTraceLimit'), f).toBe(false);
}, 180_000);
