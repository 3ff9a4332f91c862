// What training sees of a skewed collection (skewed-collection.ts: texture 0 on ≈ 91 % of the tissue, three
// rare textures on ≈ 3 % each, real PNGs) with uniform sampling and with curated sets: `curate` (its
// dedup, hierarchical k-means, and a balanced subset or sampling weights over every tile) on features that
// follow the textures, then the pretraining sampler (core/data/train/sampler.ts) reading tiles of the Quick
// crops' size from the files. Measured per texture: its share of the sampled tiles (by the texture at a
// tile's centre) and of their pixels. Uniform sampling gives the rare textures about what they cover; the
// curated sets a quarter of the tiles each (its squares are 64 px, the tiles 48 px centred on a uniform point of a square, so a rare tile
// also shows some texture 0 around it: about a third of its pixels).
// Measured 2026-12-06 (sampler seed 3, 400 tiles): uniform 89.3 / 4.5 / 3.3 / 3.0 % of the tiles, curated
// 27.3 / 27.5 / 21.0 / 24.3 % (pixels: 50.6 / 18.1 / 14.8 / 16.6 %); the bands (18–32 %) are about 3 binomial
// standard deviations of 400 draws. The weighted set (every tile, the default): 25.8 / 24.8 / 24.5 / 25.0 % of
// the tiles (pixels 47.4 / 18.2 / 17.0 / 17.4 %).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTileList } from '../../data/train/tile-list.js';
import { Rng } from '../../data/train/random.js';
import { buildSamplingPlan, TileSampler, type SamplingPlan } from '../../data/train/sampler.js';
import { curate } from '../../features/curation/curate.js';
import { trainingImages } from '../project-images.js';
import { SKEWED_SPEC, SKEWED_TILE_PATCHES, skewedProject, skewedRegionAt } from './skewed-collection.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-curated-mix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IMAGES = 8;
const DRAWS = 400;
const TILE = 48; // tileSizeFor the quality test's 32 px global crops

/** Each texture's share of `DRAWS` sampled tiles (the texture at a tile's centre) and of their pixels (4 px lattice). */
async function textureShares(plan: SamplingPlan, ids: string[]): Promise<{ tiles: number[]; pixels: number[] }> {
  const sampler = new TileSampler(plan);
  const rng = Rng.seeded(3);
  const tiles = [0, 0, 0, 0];
  const pixels = [0, 0, 0, 0];
  try {
    for (let k = 0; k < DRAWS; k++) {
      const t = await sampler.sample(rng);
      const i = ids.indexOf(t.imageId);
      tiles[Math.max(0, skewedRegionAt(SKEWED_SPEC, i, t.x + t.size / 2, t.y + t.size / 2))]++;
      for (let y = t.y + 2; y < t.y + t.size; y += 4)
        for (let x = t.x + 2; x < t.x + t.size; x += 4) {
          const r = skewedRegionAt(SKEWED_SPEC, i, x, y);
          if (r >= 0) pixels[r]++;
        }
    }
  } finally {
    await sampler.close();
  }
  const shares = (c: number[]): number[] => c.map((v) => v / c.reduce((a, b) => a + b, 0));
  return { tiles: shares(tiles), pixels: shares(pixels) };
}

describe('curated sampling on a skewed collection', () => {
  it('gives every texture about a quarter of the sampled tiles where uniform sampling gives the rare ones ≈ 3 %', async () => {
    const { project, ids } = await skewedProject(dir, IMAGES);
    const s = await curate(project, {
      set: 'textures',
      tilePatches: SKEWED_TILE_PATCHES,
      target: 32,
      levels: [12, 4],
      dedupThreshold: 0.999,
    });
    // 36 tiles an image; each rare texture has one per image: 8 of it, so 8 of every texture.
    expect(s.candidates).toBe(IMAGES * 36);
    expect([...s.clustersAfter].sort()).toEqual([8, 8, 8, 8]);
    const list = await readTileList(s.path);

    const images = trainingImages(project);
    const uniform = await textureShares(await buildSamplingPlan(images, { tileSize: TILE }), ids);
    const curated = await textureShares(await buildSamplingPlan(images, { tileSize: TILE, tiles: list.tiles }), ids);
    const pct = (v: number[]): string => v.map((x) => (100 * x).toFixed(1)).join(' / ');
    console.log(
      `texture shares (0 / 1 / 2 / 3) of sampled tiles: uniform ${pct(uniform.tiles)} %, curated ${pct(curated.tiles)} %; ` +
        `of their pixels: uniform ${pct(uniform.pixels)} %, curated ${pct(curated.pixels)} %`,
    );

    expect(uniform.tiles[0]).toBeGreaterThan(0.82);
    for (const t of [1, 2, 3]) expect(uniform.tiles[t]).toBeLessThan(0.07);
    for (const t of [0, 1, 2, 3]) {
      expect(curated.tiles[t]).toBeGreaterThan(0.18);
      expect(curated.tiles[t]).toBeLessThan(0.32);
    }
    // A rare tile also shows texture 0 around its square, so the pixels lift less than the tiles.
    for (const t of [1, 2, 3]) expect(curated.pixels[t]).toBeGreaterThan(3 * uniform.pixels[t]);

    // The default set: every distinct tile kept, drawn with sampling weights that balance the clusters.
    const w = await curate(project, {
      set: 'textures',
      name: 'weighted',
      tilePatches: SKEWED_TILE_PATCHES,
      levels: [12, 4],
      dedupThreshold: 0.999,
    });
    expect(w.picked).toBe(IMAGES * 36);
    const weightedList = await readTileList(w.path);
    expect(weightedList.params.mode).toBe('weights');
    const weighted = await textureShares(await buildSamplingPlan(images, { tileSize: TILE, tiles: weightedList.tiles }), ids);
    console.log(
      `weighted set (all ${w.picked} tiles): texture shares of sampled tiles ${pct(weighted.tiles)} %, of their pixels ${pct(weighted.pixels)} %`,
    );
    for (const t of [0, 1, 2, 3]) {
      expect(weighted.tiles[t]).toBeGreaterThan(0.18);
      expect(weighted.tiles[t]).toBeLessThan(0.32);
    }
    for (const t of [1, 2, 3]) expect(weighted.pixels[t]).toBeGreaterThan(3 * uniform.pixels[t]);
  }, 120_000);
});
