// Worker-thread scans: the pool's answers equal the single-thread scan over the same resident rows
// (real worker threads booted through tsx, real shared wasm memory), and the worker runs from an esbuild
// bundle with plain Node.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../synthetic.js';
import { ExactIndex } from './exact.js';
import { IvfIndex } from './ivf.js';
import { ScanPool, splitSegments } from './pool.js';

const D = 384;
const N = 30000;
let dir: string;
let idx: ExactIndex;
let pool: ScanPool;
const syn = clusteredVectors(N, D, 30, 0.05, 3);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-pool-'));
  idx = await ExactIndex.create(join(dir, 'index'), D, 8192);
  // Image a: 100 × 150 grid, rows 0..15000 in two appends; image b: 150 × 100, positions reversed.
  await idx.append({
    image: 'a',
    gridWidth: 100,
    gridHeight: 150,
    positions: Uint32Array.from({ length: 9000 }, (_, i) => i),
    vectors: syn.vectors.subarray(0, 9000 * D),
  });
  await idx.append({
    image: 'b',
    gridWidth: 150,
    gridHeight: 100,
    positions: Uint32Array.from({ length: 15000 }, (_, i) => 14999 - i),
    vectors: syn.vectors.subarray(9000 * D, 24000 * D),
  });
  await idx.append({
    image: 'a',
    gridWidth: 100,
    gridHeight: 150,
    positions: Uint32Array.from({ length: 6000 }, (_, i) => 9000 + i),
    vectors: syn.vectors.subarray(24000 * D, N * D),
  });
  pool = new ScanPool(3);
}, 60_000);
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('splitSegments', () => {
  it('splits row segments into near-equal contiguous shares', () => {
    const parts = splitSegments(
      [
        [0, 10],
        [100, 5],
        [200, 1],
      ],
      3,
    ).map((s) => Array.from(s));
    expect(parts).toEqual([
      [0, 6],
      [6, 4, 100, 2],
      [102, 3, 200, 1],
    ]);
    expect(splitSegments([[5, 2]], 4).map((s) => s.length)).toEqual([2, 2, 0, 0]);
  });
});

describe('ScanPool', () => {
  it('top-k across threads equals the single-thread exact search, also after appends grow the memory', async () => {
    for (const qi of [3, 12000, 29999]) {
      const q = syn.vectors.subarray(qi * D, qi * D + D);
      const want = idx.search(q, 25);
      const got = await idx.searchAsync(q, 25, pool);
      expect(got).toEqual(want);
      expect(got[0].row).toBe(qi);
    }
    // Appending reallocates the shared scales and grows the wasm memory: workers must see both.
    const more = clusteredVectors(20000, D, 30, 0.05, 4).vectors;
    await idx.append({
      image: 'c',
      gridWidth: 200,
      gridHeight: 100,
      positions: Uint32Array.from({ length: 20000 }, (_, i) => i),
      vectors: more,
    });
    const q = more.subarray(19999 * D, 20000 * D);
    const got = await idx.searchAsync(q, 10, pool);
    expect(got).toEqual(idx.search(q, 10));
    expect(got[0]).toMatchObject({ image: 'c', x: 19999 % 200, y: Math.floor(19999 / 200) });
  }, 60_000);

  it('concurrent requests (searches and heatmaps in flight together) each get their own answer', async () => {
    const qs = [7, 8001, 15000, 22222].map((i) => syn.vectors.subarray(i * D, i * D + D));
    const [s0, h1, s2, h3] = await Promise.all([
      idx.searchAsync(qs[0], 5, pool),
      idx.heatmapAsync('a', qs[1], pool),
      idx.searchAsync(qs[2], 5, pool),
      idx.heatmapAsync('b', qs[3], pool),
    ]);
    expect(s0).toEqual(idx.search(qs[0], 5));
    expect(s2).toEqual(idx.search(qs[2], 5));
    expect(Array.from(h1)).toEqual(Array.from(idx.heatmap('a', qs[1])));
    expect(Array.from(h3)).toEqual(Array.from(idx.heatmap('b', qs[3])));
  });

  it('the heatmap across threads equals the single-thread heatmap (NaN where no patch)', async () => {
    const q = syn.vectors.subarray(500 * D, 501 * D);
    for (const image of ['a', 'b']) {
      const want = idx.heatmap(image, q);
      const got = await idx.heatmapAsync(image, q, pool);
      expect(got.length).toBe(want.length);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it("a click scans each row once: the other images' top-k plus the top of the own heatmap equal the full search", async () => {
    await pool.warm(idx.rowsSpace);
    for (const [qi, image] of [
      [500, 'a'],
      [12000, 'b'],
      [26000, 'a'],
    ] as const) {
      const q = syn.vectors.subarray(qi * D, qi * D + D);
      const want = idx.search(q, 40);
      const heat = await idx.heatmapAsync(image, q, pool);
      for (const p of [pool, null]) {
        const others = await idx.searchOthersAsync(q, 40, image, p);
        expect(others.every((h) => h.image !== image)).toBe(true);
        const merged = [...others, ...idx.topOfHeatmap(image, heat, 40)].sort((x, y) => y.score - x.score).slice(0, 40);
        expect(merged.map((h) => [h.row, h.image, h.x, h.y])).toEqual(want.map((h) => [h.row, h.image, h.x, h.y]));
        expect(merged.map((h) => h.score)).toEqual(want.map((h) => h.score));
      }
    }
  });

  it('IVF built and searched across threads equals IVF on one thread', async () => {
    const opts = { top: 4, leaf: 4, sample: 3000, assignProbe: 2 };
    const ivf = IvfIndex.build(idx, opts);
    const par = await IvfIndex.buildAsync(idx, opts, pool);
    expect(Array.from(par.listStart)).toEqual(Array.from(ivf.listStart));
    expect(Array.from(par.ids)).toEqual(Array.from(ivf.ids));
    for (const qi of [10, 20000]) {
      const q = syn.vectors.subarray(qi * D, qi * D + D);
      expect(await ivf.searchAsync(q, 10, 6, pool)).toEqual(ivf.search(q, 10, 6));
    }
  });

  it('measures read bandwidth with all threads', async () => {
    const gbs = await pool.readBandwidth(idx.rowsSpace, idx.size, 1);
    expect(gbs).toBeGreaterThan(0.05);
  });
});

describe('scan.worker in an esbuild bundle', () => {
  it('runs from ./scan.worker.js beside the bundled caller with plain Node', async () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const entry = join(dir, 'entry.ts');
    await writeFile(
      entry,
      `import { ExactIndex } from ${JSON.stringify(join(repo, 'core/features/index/exact.ts'))};
import { ScanPool } from ${JSON.stringify(join(repo, 'core/features/index/pool.ts'))};
const idx = await ExactIndex.create(${JSON.stringify(join(dir, 'bundled-index'))}, 16);
const v = new Float32Array(1000 * 16).map((_, i) => Math.sin(i * 0.37));
await idx.append({ image: 'x', gridWidth: 40, gridHeight: 25, positions: Uint32Array.from({ length: 1000 }, (_, i) => i), vectors: v });
const pool = new ScanPool(2);
const q = v.subarray(16 * 77, 16 * 78);
const a = await idx.searchAsync(q, 5, pool);
const same = JSON.stringify(a) === JSON.stringify(idx.search(q, 5));
await pool.close();
console.log(JSON.stringify({ first: a[0].row, same }));
`,
    );
    const out = join(dir, 'out');
    await build({
      entryPoints: { main: entry, 'scan.worker': join(repo, 'core/features/index/scan.worker.ts') },
      outdir: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'error',
    });
    await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const r = spawnSync(process.execPath, [join(out, 'main.js')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ first: 77, same: true });
  }, 60_000);
});
