// `dinoscope extract` through the built CLI survives SIGKILL: a run killed after its progress reports
// finished tiles is rerun, resumes (the tiles done before the kill are found done, not recomputed: the
// summary's `resumed` ≥ the last count printed), and its final feature store equals an uninterrupted run's
// on another copy of the project to float16 precision, with the same indexed rows.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import type { ExtractSummary } from '../../common/api.js';
import { openFeatureStore } from '../../features/store/reader.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/dinoscope.js');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-extract-crash-'));
// 8 × 4 tiles of 16 × 16 patches (14 px), tissue everywhere, a tiny ViT 6 blocks deep (192 wide): a few
// seconds on one thread, long enough to kill in the middle (the CLI prints progress at most once a second).
const W = 14 * 16 * 8;
const H = 14 * 16 * 4;
const TILES = 32;
const projects = [join(dir, 'killed'), join(dir, 'straight')];
const args = (p: string): string[] => ['extract', '--project', p, '--model', 'tiny', '--threads', '1', '--batch', '2'];

beforeAll(async () => {
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const rgb = Buffer.alloc(W * H * 3); // (H, W, 3): stained-looking texture everywhere
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      rgb.set(
        [150 + Math.round(50 * Math.sin(x / 7 + y / 23)), 60 + Math.round(40 * Math.cos(y / 5)), 160 + ((x * y) % 40)],
        3 * (y * W + x),
      );
  const png = join(dir, 'tissue.png');
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(png);
  const cfg = vitConfig('tiny', { arch: 'dinov2', registers: 4, depth: 6 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 7)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  try {
    for (const p of projects) {
      await service.createProject(p);
      await service.importPaths([png]);
      await service.idle();
      await exportWeights(join(projectModelsDir(p), 'tiny'), cfg, tensors, 'hf');
    }
  } finally {
    await service.close();
  }
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(p: string): { status: number | null; summary: ExtractSummary; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args(p)], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
  });
  expect(r.status, r.stderr).toBe(0);
  return { status: r.status, summary: JSON.parse(r.stdout) as ExtractSummary, stderr: r.stderr };
}

describe('dinoscope extract, killed with SIGKILL', () => {
  it('resumes without recomputing finished tiles and ends with the same store as an uninterrupted run', async () => {
    const child = spawn(process.execPath, [bin, ...args(projects[0])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DINOSCOPE_HOME: join(dir, 'home') },
    });
    let err = '';
    // Kill at the first progress line that reports finished tiles (lines come at most once a second).
    const doneAtKill = await new Promise<number>((done, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const counts = [...err.matchAll(/extract: (\d+)\/(\d+) tiles/g)].map((m) => Number(m[1]));
        const last = counts[counts.length - 1] ?? 0;
        if (last >= 2 && !child.killed) {
          child.kill('SIGKILL');
          done(last);
        }
      });
      child.on('exit', () => fail(new Error(`exited before reporting finished tiles:\n${err}`)));
    });
    await new Promise((r) => child.on('close', r));
    expect(doneAtKill).toBeLessThan(TILES);

    const resumed = run(projects[0]).summary.images[0];
    expect(resumed.resumed).toBeGreaterThanOrEqual(doneAtKill); // reported done before the kill ⇒ not recomputed
    expect(resumed.computed).toBe(TILES - resumed.resumed - resumed.background);
    expect(resumed.computed).toBeLessThan(TILES);
    const straight = run(projects[1]).summary.images[0];
    expect(straight).toMatchObject({ computed: TILES, resumed: 0, background: 0 });
    expect(resumed.indexedRows).toBe(straight.indexedRows);

    const a = await openFeatureStore(join(projects[0], 'cache/features', `tiny-level0/${resumed.imageId}.zarr`));
    const b = await openFeatureStore(join(projects[1], 'cache/features', `tiny-level0/${straight.imageId}.zarr`));
    const { gridWidth: gw, gridHeight: gh } = b.manifest;
    expect([a.manifest.gridWidth, a.manifest.gridHeight]).toEqual([gw, gh]);
    const fa = await a.readRect(0, 0, gw, gh); // (gh, gw, dim)
    const fb = await b.readRect(0, 0, gw, gh);
    let worst = 0;
    for (let i = 0; i < fb.length; i++) worst = Math.max(worst, Math.abs(fa[i] - fb[i]) / (Math.abs(fb[i]) * 2 ** -10 + 1e-3));
    expect(worst).toBeLessThanOrEqual(1); // within one float16 step (plus a 1e-3 floor near zero)
  }, 120_000);
});
