// Every long command exits after a failed write, through the built CLI on real files: pretrain (its run
// config, then its progress log mid-run, then a full disk: the log linked to /dev/full), adapt (mid-run), extract (the second image's feature store) and
// demo (its model folder at the first checkpoint). Each failure is a folder or file standing where the
// other is needed (tests run as root, so permissions stop nothing). Each process must exit non-zero within
// the spawn's bound, with one plain sentence naming the path on stderr, no stack trace, and without the
// CLI's last-resort exit (which would mean a worker or session was left open).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPlan } from '../../demo/options.js';
import { featureSetId } from '../../features/extract/project.js';
import { imageIdFor } from '../../project/image-id.js';
import { Project } from '../../project/project.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-exits-'));
const proj = join(dir, 'p');
/** The bound: a hang is killed here and fails the test (startup alone takes seconds on a loaded machine). */
const BOUND_MS = 90_000;
const small = ['--tiny', '--threads', '1'];

function cli(args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: BOUND_MS,
    env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t };
}

/** Exited by itself, non-zero, the last stderr line one plain sentence naming `path`, nothing left running. */
function expectCleanFailure(r: ReturnType<typeof cli>, command: string, path: string): void {
  expect(r.signal, `killed after ${BOUND_MS} ms: the command hung\n${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  const last = r.stderr.trim().split('\n').pop() ?? '';
  expect(last).toContain(`dinoscope ${command}: ${path}: is a folder where a file is expected`);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stderr).not.toContain('still pending'); // the CLI's last-resort exit did not have to step in
}

const images: string[] = [];
beforeAll(async () => {
  const S = 128;
  const project = await Project.create(proj);
  for (const name of ['a.png', 'b.png']) {
    const px = Buffer.alloc(S * S * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * (name === 'a.png' ? 7 : 13)) % 256;
    const file = join(dir, name);
    await sharp(px, { raw: { width: S, height: S, channels: 3 } })
      .png()
      .toFile(file);
    const meta = {
      format: 'png',
      width: S,
      height: S,
      levels: [{ width: S, height: S, downsample: 1 }],
      mpp: null,
      tileWidth: S,
      tileHeight: S,
      vendor: null,
    };
    await project.update((p) =>
      p.upsert({
        id: imageIdFor(file),
        path: file,
        name,
        status: 'ok',
        bytes: 1,
        mtime: 0,
        addedAt: new Date(0).toISOString(),
        meta: meta as never,
      }),
    );
    images.push(file);
  }
  const r = cli(['pretrain', '--project', proj, ...small, '--steps', '1', '--run', 'base']);
  expect(r.status, r.stderr).toBe(0);
  // The run's teacher is the project model "base" (registered at its checkpoint).
  expect((JSON.parse(r.stdout) as { model: string }).model).toBe('base');
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('long commands exit after a failed write', () => {
  it(
    'pretrain: its run config cannot be written',
    () => {
      const target = join(proj, 'runs', 'r1', 'train-config.json');
      mkdirSync(target, { recursive: true });
      expectCleanFailure(cli(['pretrain', '--project', proj, ...small, '--steps', '2', '--run', 'r1']), 'pretrain', target);
      // Not listed as a run: with the folder out of the way, the same name starts afresh.
      rmSync(target, { recursive: true });
      const again = cli(['pretrain', '--project', proj, ...small, '--steps', '1', '--run', 'r1']);
      expect(again.status, again.stderr).toBe(0);
    },
    BOUND_MS + 10_000,
  );

  it(
    'pretrain: its progress log cannot be written after the first step',
    () => {
      const target = join(proj, 'runs', 'r2', 'progress.jsonl');
      mkdirSync(target, { recursive: true });
      const r = cli(['pretrain', '--project', proj, ...small, '--steps', '5', '--run', 'r2']);
      expectCleanFailure(r, 'pretrain', target); // mid-run: the first step ran, its line is logged after this write
    },
    BOUND_MS + 10_000,
  );

  it(
    'pretrain: the disk is full when the progress log is written (a link to /dev/full)',
    () => {
      const target = join(proj, 'runs', 'r3', 'progress.jsonl');
      mkdirSync(join(proj, 'runs', 'r3'), { recursive: true });
      symlinkSync('/dev/full', target);
      const r = cli(['pretrain', '--project', proj, ...small, '--steps', '3', '--run', 'r3']);
      expect(r.signal, `killed after ${BOUND_MS} ms: the command hung\n${r.stderr}`).toBeNull();
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').pop()).toBe(
        `dinoscope pretrain: ${target}: the disk is full; free some space and run the command again (ENOSPC in write).`,
      );
      expect(r.stderr).not.toContain('still pending');
    },
    BOUND_MS + 10_000,
  );

  it(
    'adapt: its progress log cannot be written after the first step',
    () => {
      const target = join(proj, 'runs', 'hi', 'progress.jsonl');
      mkdirSync(target, { recursive: true });
      const overrides = JSON.stringify({
        batchSize: 2,
        crops: { globalSize: 32, localSize: 16, localCrops: 2 },
        head: { prototypes: 32, hidden: 32, bottleneck: 16 },
        gram: { sizeTable: [{ global: 32, local: 16, gram: 48, p: 1 }] },
        health: { every: 100, tiles: 2, perImage: 4, radius: 1 },
      });
      const r = cli([
        'adapt',
        '--project',
        proj,
        '--model',
        'base',
        '--steps',
        '3',
        '--run',
        'hi',
        '--threads',
        '1',
        '--overrides',
        overrides,
      ]);
      expectCleanFailure(r, 'adapt', target); // mid-run, as for pretrain
    },
    BOUND_MS + 10_000,
  );

  it(
    "extract: the search index's first chunk cannot be written, after the first image's features",
    () => {
      const target = join(proj, 'cache', 'features', featureSetId('base', {}), 'index', 'chunk-000000.i8');
      mkdirSync(target, { recursive: true });
      const r = cli(['extract', '--project', proj, '--model', 'base', '--threads', '1']);
      expectCleanFailure(r, 'extract', target);
      // Mid-run: the first image's features were computed and stored (the model's session open) before the index write failed.
      const setDir = join(proj, 'cache', 'features', featureSetId('base', {}));
      expect(readdirSync(setDir).filter((f) => f.endsWith('.zarr')).length, readdirSync(setDir).join(', ')).toBeGreaterThanOrEqual(1);
    },
    BOUND_MS + 10_000,
  );

  it(
    'demo: its model folder cannot be written at the first checkpoint',
    () => {
      const demo = join(dir, 'demo');
      mkdirSync(demo);
      // A previous demo of the same spec (so it resumes), whose models/ is a file.
      writeFileSync(
        join(demo, 'demo.json'),
        JSON.stringify({
          kind: 'dinoscope-demo',
          version: 1,
          spec: demoPlan({ tiny: true }, dir, 2).spec,
          createdAt: new Date(0).toISOString(),
        }),
      );
      writeFileSync(join(demo, 'models'), 'not a folder');
      const r = cli(['demo', '--tiny', '--steps', '2', '--dir', demo]);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toContain('training');
      const last = r.stderr.trim().split('\n').pop() ?? '';
      expect(last).toMatch(/^dinoscope demo: .*models.*: a part of this path is a file where a folder is expected/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain('still pending');
    },
    BOUND_MS + 10_000,
  );
});
