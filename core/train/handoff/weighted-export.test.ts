// `dinoscope export-training --data curated` of a weighted curated set on a skewed collection
// (core/train/quality/skewed-collection.ts: real PNGs, texture 0 on ≈ 91 % of the tissue, three rare textures
// on ≈ 3 % each, features that follow the textures). The official trainers draw the rows of tiles.csv
// uniformly, so the rows must carry the weights: each top-level cluster's share of the rows equals its share
// of the set's weights within one row (the cumulative rounding of weighted-rows.ts), every distinct tile is
// listed, each texture gets about a quarter of the rows (where one row a tile gave texture 0 over 90 %), and
// a tile's rows are its weight times the stated scale within one.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { openImage } from '../../data/readers/registry.js';
import { readTileList, type CuratedTiles } from '../../data/train/tile-list.js';
import { curate } from '../../features/curation/curate.js';
import { SKEWED_SPEC, SKEWED_TILE_PATCHES, skewedProject, skewedRegionAt } from '../quality/skewed-collection.js';
import type { TrainingExport } from './export.js';
import { weightedRows } from './weighted-rows.js';

const IMAGES = 8;
let root: string;
let projectDir: string;
let ids: string[];
let paths: string[];
let list: CuratedTiles;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-weighted-export-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  const skewed = await skewedProject(root, IMAGES);
  ({ ids, paths } = skewed);
  projectDir = skewed.project.dir;
  // The fixture records its PNGs without reading them; the export needs their size, as an import gives it.
  const metas = await Promise.all(
    paths.map(async (path) => {
      const reader = await openImage(path);
      try {
        return reader.meta;
      } finally {
        await reader.close();
      }
    }),
  );
  await skewed.project.update((p) => ids.forEach((id, i) => p.upsert({ ...p.image(id)!, meta: metas[i] })));
  const s = await curate(skewed.project, {
    set: 'textures',
    name: 'weighted',
    tilePatches: SKEWED_TILE_PATCHES,
    levels: [12, 4],
    dedupThreshold: 0.999,
  });
  list = await readTileList(s.path);
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('export-training of a weighted curated set', () => {
  it("repeats each tile in proportion to its weight: every cluster's share of the rows is its share of the weights", async () => {
    expect(list.params.mode).toBe('weights');
    expect(list.tiles).toHaveLength(IMAGES * 36); // every distinct tile of the skewed collection
    let out = '';
    let err = '';
    const code = await runCli(
      ['export-training', '--project', projectDir, '--recipe', 'dinov2', '--level', '0', '--tile-size', '64', '--data', 'curated:weighted'],
      { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal },
    );
    expect(code, err).toBe(0);
    const e = JSON.parse(out) as TrainingExport;
    const rows = (await readFile(e.files.tiles, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows).toHaveLength(e.tiles);
    expect(e.weighting).toBeDefined();
    expect(e.weighting!.distinct).toBe(list.tiles.length);
    expect(e.weighting!.unlisted).toBe(0);

    // A row is a tile of the set (64 px squares at level 0: the row's corner is the tile's).
    const tileAt = new Map(list.tiles.map((t) => [`${paths[ids.indexOf(t.imageId)]}|${t.x}|${t.y}`, t]));
    const rowsOf = new Map<string, number>();
    for (const [path, , x, y] of rows) {
      const key = `${path}|${x}|${y}`;
      expect(tileAt.has(key), key).toBe(true);
      rowsOf.set(key, (rowsOf.get(key) ?? 0) + 1);
    }
    expect(rowsOf.size).toBe(list.tiles.length); // no tile left out

    // Each top-level cluster: rows / all rows against Σ its weights / Σ all weights, within one row.
    const total = list.tiles.reduce((a, t) => a + t.weight!, 0);
    const clusters = [...new Set(list.tiles.map((t) => t.cluster!))];
    expect(clusters.length).toBe(4);
    for (const c of clusters) {
      const inC = list.tiles.filter((t) => t.cluster === c);
      const want = inC.reduce((a, t) => a + t.weight!, 0) / total;
      const got = inC.reduce((a, t) => a + rowsOf.get(`${paths[ids.indexOf(t.imageId)]}|${t.x}|${t.y}`)!, 0) / rows.length;
      expect(Math.abs(got - want), `cluster ${c}: ${got} of the rows, ${want} of the weights`).toBeLessThanOrEqual(1 / rows.length);
    }
    // Each tile: its rows are its weight × the scale, within one.
    for (const t of list.tiles) {
      const n = rowsOf.get(`${paths[ids.indexOf(t.imageId)]}|${t.x}|${t.y}`)!;
      expect(Math.abs(n - t.weight! * e.weighting!.scale)).toBeLessThan(1);
    }
    // What a uniform draw over the rows gives each texture: about a quarter (one row a tile gave texture 0 ≈ 92 %).
    const perTexture = [0, 0, 0, 0];
    for (const [path, , x, y, , region] of rows)
      perTexture[skewedRegionAt(SKEWED_SPEC, paths.indexOf(path), +x + +region / 2, +y + +region / 2)]++;
    for (const n of perTexture) expect(n / rows.length).toBeCloseTo(0.25, 1);

    expect(err).toMatch(/curated set "weighted": 288 tiles written as \d+ rows, each repeated in proportion to its sampling weight/);
    const readme = await readFile(e.files.readme, 'utf8');
    expect(readme).toContain(`Tiles:   ${rows.length} rows: the 288 tiles of the curated set "weighted"`);
    expect(readme).toContain('Each tile is repeated in proportion to its sampling weight');
  }, 120_000);
});

describe('weightedRows', () => {
  const tile = (
    cluster: number,
    weight?: number,
  ): { imageId: string; x: number; y: number; size: number; cluster: number; weight?: number } => ({
    imageId: 'a',
    x: 0,
    y: 0,
    size: 1,
    cluster,
    ...(weight !== undefined && { weight }),
  });

  it('writes a list without weights one row a tile', () => {
    const r = weightedRows([tile(0), tile(1), tile(1)]);
    expect([...r.copies]).toEqual([1, 1, 1]);
    expect(r).toMatchObject({ rows: 3, scale: null, unlisted: 0 });
  });

  it('gives the lightest tile one row, a weight 0 none, and each cluster its share within one row when capped', () => {
    const r = weightedRows([tile(0, 0.5), tile(1, 1.5), tile(0, 0), tile(1, 1)]);
    expect([...r.copies]).toEqual([1, 3, 0, 2]);
    expect(r.unlisted).toBe(0);
    // 3 clusters of 1/3 each: 1 tile, 2 tiles and 97 tiles; capped at 30 rows, the 97 light tiles share 10.
    const many = [tile(0, 100 / 3), ...[1, 2].map(() => tile(1, 100 / 6)), ...Array.from({ length: 97 }, () => tile(2, 100 / 291))];
    const c = weightedRows(many, 30);
    expect(c.rows).toBe(30);
    const share = (k: number): number => many.reduce((a, t, i) => a + (t.cluster === k ? c.copies[i] : 0), 0);
    expect([share(0), share(1), share(2)]).toEqual([10, 10, 10]);
    expect(c.unlisted).toBe(87);
  });

  it('takes a curated set of hundreds of thousands of tiles', () => {
    // 3·10^5 tiles in two clusters: the lightest weight was once found with Math.min(...weights), which
    // overflows the call stack at this size.
    const n = 300_000;
    const many = Array.from({ length: n }, (_, i) => tile(i % 2, i % 2 ? 2 : 1));
    const r = weightedRows(many);
    expect(r.rows).toBe(1.5 * n); // the lightest (1) one row, the others (2) two
    expect(r.unlisted).toBe(0);
    expect(r.copies[0]).toBe(1);
    expect(r.copies[1]).toBe(2);
  });
});
