// The CLI loads its native packages (sharp, onnxruntime-node, ws, LanceDB, koffi) only in the commands that
// use them: `--help`, bad input and `info` of a TIFF start without them (each costs a share of a second of
// CPU, paid by every command a user or a test runs). Through the built CLI, with a preload that lists,
// when the process exits, the packages Node's module cache holds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-cli-start-'));
const preload = join(dir, 'loaded-packages.cjs');
const heavy = ['sharp', 'onnxruntime-node', 'ws', '@lancedb/lancedb', 'koffi'];

/** The packages under node_modules the process had loaded when it exited (native bindings included). */
function loadedPackages(args: string[], expectedStatus: number): string[] {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, ['--require', preload, bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LOADED_PACKAGES_FILE: out, DINOSCOPE_HOME: join(dir, 'home') },
  });
  expect(r.status, r.stderr).toBe(expectedStatus);
  return JSON.parse(readFileSync(out, 'utf8')) as string[];
}

beforeAll(async () => {
  writeFileSync(
    preload,
    `process.on('exit', () => {
  const names = new Set();
  for (const key of Object.keys(require.cache)) {
    const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(key);
    if (m) names.add(m[1].replace(/\\\\/g, '/').replace(/^@img\\/sharp-.*/, 'sharp'));
  }
  require('node:fs').writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify([...names]));
});\n`,
  );
  await writePyramidalTiff(join(dir, 'slide.tif'), { width: 600, height: 400 });
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#a05070' } })
    .png()
    .toFile(join(dir, 'plain.png'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI start-up', () => {
  it('--help, an unknown command and a bad flag load none of the native packages', () => {
    for (const [args, status] of [
      [['--help'], 0],
      [['nonsense'], 2],
      [['extract', '--nonsense'], 2],
      [['pretrain', '--help'], 0],
    ] as const) {
      const loaded = loadedPackages([...args], status);
      for (const name of heavy) expect(loaded, `dinoscope ${args.join(' ')} loaded ${name}`).not.toContain(name);
    }
  });

  it('info of a tiled TIFF reads its tags without sharp, onnxruntime or the host packages; a PNG loads sharp', () => {
    const tiff = loadedPackages(['info', join(dir, 'slide.tif')], 0);
    for (const name of heavy) expect(tiff, `info of a TIFF loaded ${name}`).not.toContain(name);
    // The same lister sees sharp when a command does use it: the assertions above are not vacuous.
    const png = loadedPackages(['info', join(dir, 'plain.png')], 0);
    expect(png).toContain('sharp');
    expect(png).not.toContain('onnxruntime-node');
  });
});
