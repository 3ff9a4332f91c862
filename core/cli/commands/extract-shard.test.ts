// `dinoscope extract --shard I/N` through the built CLI: three shard processes extract one project's
// images into one feature set at once; the shard with the most work is killed with SIGKILL part-way and
// rerun (it takes over its dead lock at once and finishes its images; images already finished are not
// redone); then `dinoscope index` builds the index once. The stores equal, value for value, those of a
// single `dinoscope extract` over another project of the same files, and the search results are equal.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import type { ExtractSummary } from '../../common/api.js';
import { shardOf } from '../../features/extract/shard.js';
import { openFeatureStore } from '../../features/store/reader.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { Project } from '../../project/project.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-extract-shard-'));
// Six images of 4 × 4 tiles of 16 × 16 patches (14 px), tissue-like texture everywhere; a tiny ViT 6 blocks
// deep. Tiled, one tile per batch, one thread: every tile is computed alone, so a resumed store is
// value-for-value the one an uninterrupted run writes.
const SIDE = 14 * 16 * 4;
const IMAGES = 6;
const TILES = 16;
const SHARDS = 3;
const sharded = join(dir, 'sharded');
const single = join(dir, 'single');
const env = { ...process.env, DINOSCOPE_HOME: join(dir, 'home') };
const extractArgs = (p: string, more: string[] = []): string[] => [
  'extract',
  '--project',
  p,
  '--model',
  'tiny',
  '--threads',
  '1',
  '--batch',
  '1',
  '--context',
  'tiled',
  ...more,
];
let ids: string[] = [];
let idOf: (name: string) => string = () => '';

beforeAll(async () => {
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const pngs: string[] = [];
  for (let k = 0; k < IMAGES; k++) {
    const rgb = Buffer.alloc(SIDE * SIDE * 3); // (H, W, 3)
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++)
        rgb.set(
          [
            150 + Math.round(50 * Math.sin(x / (5 + k) + y / 23)),
            60 + Math.round(40 * Math.cos(y / (4 + k))),
            160 + ((x * y + k * 7) % 40),
          ],
          3 * (y * SIDE + x),
        );
    const png = join(dir, `slide-${k}.png`);
    await sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .png()
      .toFile(png);
    pngs.push(png);
  }
  const cfg = vitConfig('tiny', { arch: 'dinov2', registers: 4, depth: 6 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 7)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  try {
    for (const p of [sharded, single]) {
      await service.createProject(p);
      await service.importPaths(pngs);
      await service.idle();
      await exportWeights(join(projectModelsDir(p), 'tiny'), cfg, tensors, 'hf');
    }
  } finally {
    await service.close();
  }
  const images = (await Project.open(sharded)).images();
  ids = images.map((i) => i.id);
  idOf = (name) => images.find((i) => i.name === name)!.id;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], status = 0): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 240_000, env });
  expect(r.status, r.stderr).toBe(status);
  return { stdout: r.stdout, stderr: r.stderr };
}

const setDir = (p: string): string => join(p, 'cache/features/tiny-level0');

describe('dinoscope extract --shard', () => {
  it('refuses a bad --shard and an --images-from line that names no image, naming the lines', () => {
    expect(cli(extractArgs(sharded, ['--shard', '3/3']), 2).stderr).toMatch(/--shard: must be I\/N with 0 ≤ I < N/);
    const list = join(dir, 'bad-list.txt');
    writeFileSync(list, `# two good, two unknown\nslide-0.png\n\n${join(dir, 'nowhere.png')}\n${ids[1]}\nbogus\n`);
    const err = cli(extractArgs(sharded, ['--images-from', list]), 2).stderr;
    expect(err).toMatch(/line 4: .*nowhere\.png; line 6: bogus/);
    expect(err).not.toMatch(/line 3|line 5/);
  });

  it('three shards at once, one killed -9 and rerun, then dinoscope index: the same stores and search results as one run', async () => {
    const mine = (i: number): string[] => ids.filter((id) => shardOf(id, SHARDS) === i);
    expect(mine(0).length + mine(1).length + mine(2).length).toBe(IMAGES);
    const victim = [0, 1, 2].reduce((a, b) => (mine(b).length > mine(a).length ? b : a));
    const victimTiles = mine(victim).length * TILES;

    const started = [0, 1, 2].map((i) => {
      const child = spawn(process.execPath, [bin, ...extractArgs(sharded, ['--shard', `${i}/${SHARDS}`])], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      return {
        child,
        closed,
        out: () => out,
        err: () => err,
        onErr: (f: (text: string) => void) => child.stderr.on('data', (d: Buffer) => f((err += d.toString()))),
      };
    });
    for (const s of started) s.onErr(() => undefined);
    // Kill the victim at its first progress line that reports finished tiles, before it is done.
    const doneAtKill = await new Promise<number>((done, fail) => {
      const v = started[victim];
      v.onErr((text) => {
        const counts = [...text.matchAll(/extract: (\d+)\/(\d+) tiles/g)].map((m) => Number(m[1]));
        const last = counts[counts.length - 1] ?? 0;
        if (last >= 2 && !v.child.killed) {
          v.child.kill('SIGKILL');
          done(last);
        }
      });
      v.child.on('exit', () => fail(new Error(`shard ${victim} exited before reporting finished tiles:\n${v.err()}`)));
    });
    expect(doneAtKill).toBeLessThan(victimTiles);
    const codes = await Promise.all(started.map((s) => s.closed));
    for (const i of [0, 1, 2]) if (i !== victim) expect(codes[i], started[i].err()).toBe(0);
    // The killed shard left its image lock behind (its pid is dead): the rerun takes it over.
    expect(readdirSync(setDir(sharded)).filter((f) => f.endsWith('.lock'))).toHaveLength(1);
    const summaries = [0, 1, 2].filter((i) => i !== victim).map((i) => JSON.parse(started[i].out()) as ExtractSummary);
    const rerun = cli(extractArgs(sharded, ['--shard', `${victim}/${SHARDS}`]));
    expect(rerun.stderr).toMatch(/taking over a stale lock \(its process \d+ has exited\)/);
    const resumed = JSON.parse(rerun.stdout) as ExtractSummary;
    expect(resumed.images.map((x) => x.imageId).sort()).toEqual([...mine(victim)].sort());
    const resumedTiles = resumed.images.reduce((s, x) => s + x.resumed, 0);
    expect(resumedTiles).toBeGreaterThanOrEqual(doneAtKill); // reported done before the kill ⇒ not recomputed
    expect(resumed.images.reduce((s, x) => s + x.computed, 0)).toBe(victimTiles - resumedTiles);
    for (const s of summaries) for (const x of s.images) expect(x).toMatchObject({ computed: TILES, resumed: 0, indexedRows: 0 });
    expect(readdirSync(setDir(sharded)).filter((f) => f.endsWith('.lock') || f.endsWith('.stale'))).toEqual([]);
    // A shard builds no index; a rerun of a finished shard redoes nothing.
    expect(readdirSync(setDir(sharded))).not.toContain('index');
    const again = JSON.parse(cli(extractArgs(sharded, ['--shard', `${victim}/${SHARDS}`])).stdout) as ExtractSummary;
    for (const x of again.images) expect(x).toMatchObject({ computed: 0, resumed: TILES });

    // A list names images by file name, path or id; only those run (here: already done, nothing redone).
    const list = join(dir, 'list.txt');
    writeFileSync(list, `# by name, by path, by id\nslide-2.png\n${join(dir, 'slide-4.png')}\n\n${ids[0]}\n`);
    const listed = JSON.parse(cli(extractArgs(sharded, ['--images-from', list])).stdout) as ExtractSummary;
    expect(listed.images.map((x) => x.imageId).sort()).toEqual([...new Set([idOf('slide-2.png'), idOf('slide-4.png'), ids[0]])].sort());
    for (const x of listed.images) expect(x).toMatchObject({ computed: 0, resumed: TILES });

    const built = JSON.parse(cli(['index', '--project', sharded]).stdout) as {
      images: { imageId: string; indexedRows: number }[];
      incomplete: unknown[];
      rows: number;
    };
    expect(built.incomplete).toEqual([]);
    expect(built.images.map((x) => x.imageId)).toEqual(ids); // the project's order, as one run indexes

    const one = JSON.parse(cli(extractArgs(single)).stdout) as ExtractSummary;
    expect(built.images.map((x) => x.indexedRows)).toEqual(one.images.map((x) => x.indexedRows));
    const recorded = (await Project.open(sharded)).featureSets()[0].images;
    expect(recorded.map((x) => [x.imageId, x.complete, x.indexedRows]).sort()).toEqual(
      one.images.map((x) => [x.imageId, true, x.indexedRows]).sort(),
    );

    for (const id of ids) {
      const a = await openFeatureStore(join(setDir(sharded), `${id}.zarr`));
      const b = await openFeatureStore(join(setDir(single), `${id}.zarr`));
      const { gridWidth: gw, gridHeight: gh } = b.manifest;
      // Equal but for the model's identity, which hashes the model file's path here (each project has its copy).
      expect({ ...a.manifest, modelConfigHash: '' }).toEqual({ ...b.manifest, modelConfigHash: '' });
      const fa = await a.readRect(0, 0, gw, gh); // (gh, gw, dim)
      const fb = await b.readRect(0, 0, gw, gh);
      expect(Buffer.from(fa.buffer, fa.byteOffset, fa.byteLength).equals(Buffer.from(fb.buffer, fb.byteOffset, fb.byteLength)), id).toBe(
        true,
      );
    }
    const queries = join(dir, 'queries.json');
    writeFileSync(queries, JSON.stringify(ids.map((image, k) => ({ image, x: 100 + 90 * k, y: 700 - 80 * k, k: 8 }))));
    const search = (p: string): unknown =>
      (JSON.parse(cli(['search', '--project', p, '--queries', queries]).stdout) as { results: { matches: unknown }[] }).results.map(
        (r) => r.matches,
      );
    expect(search(sharded)).toEqual(search(single));
  }, 600_000);

  it('an image locked by a live process waits at the back of the queue and is extracted once the lock is free', async () => {
    // Another process holds the lock of the first listed image (its pid alive on this host).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    const [a, b] = [ids[0], ids[1]];
    writeFileSync(
      join(setDir(sharded), `${a}.zarr.lock`),
      JSON.stringify({ pid: holder.pid, host: hostname(), time: Date.now(), token: '0123456789abcdef' }),
    );
    const list = join(dir, 'two.txt');
    writeFileSync(list, `${a}\n${b}\n`);
    const child = spawn(process.execPath, [bin, ...extractArgs(sharded, ['--images-from', list])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/coming back to it later/.test(err) && holder.exitCode === null && !holder.killed) holder.kill('SIGKILL'); // the holder dies while the run waits
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(new RegExp(`being extracted by process ${holder.pid} on .*coming back to it later`));
    expect(err).toMatch(new RegExp(`taking over a stale lock \\(its process ${holder.pid} has exited\\)`));
    const summary = JSON.parse(out) as ExtractSummary;
    expect(summary.images.map((x) => x.imageId)).toEqual([b, a]); // the locked one last
    expect(readdirSync(setDir(sharded)).filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 240_000);
});
