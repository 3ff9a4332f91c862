// The sampler on real image files written in beforeAll: a slide-like PNG (tissue rectangle on glass), a
// blank PNG (uniform fallback) and a pyramidal TIFF with a stated resolution (level choice by mpp).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePyramidalTiff } from '../fixtures/pyramidal-tiff.js';
import { Rng } from './random.js';
import { buildSamplingPlan, drawWeighted, type SamplerImage, TileSampler, tileForeground } from './sampler.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-sampler-'));
const TISSUE = { x0: 600, x1: 1100, y0: 100, y1: 700 }; // level-0 rectangle of the slide PNG
let slide: SamplerImage, blank: SamplerImage, pyramid: SamplerImage;

beforeAll(async () => {
  const w = 1200,
    h = 900;
  const rgb = new Uint8Array(w * h * 3).fill(245); // glass
  const rng = Rng.seeded(1);
  for (let y = TISSUE.y0; y < TISSUE.y1; y++) {
    for (let x = TISSUE.x0; x < TISSUE.x1; x++) {
      const o = 3 * (y * w + x);
      const n = rng.int(0, 40);
      rgb.set([200 - n, 90 - n, 160 - n], o); // H&E-ish pink/purple with texture
    }
  }
  slide = { id: 'slide', path: join(dir, 'slide.png') };
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(slide.path);
  blank = { id: 'blank', path: join(dir, 'blank.png') };
  await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 250, g: 250, b: 250 } } })
    .png()
    .toFile(blank.path);
  pyramid = { id: 'pyr', path: join(dir, 'pyr.tif') };
  await writePyramidalTiff(pyramid.path, { width: 4096, height: 4096, tile: 256, compression: 'jpeg', pixelsPerMm: 4000 }); // 0.25 µm/px
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sampling plan', () => {
  it('finds the tissue, falls back to uniform sampling for a blank image (logged) and picks levels by mpp', async () => {
    const lines: string[] = [];
    const plan = await buildSamplingPlan([slide, blank, pyramid], { tileSize: 64, mpp: 0.75, log: (l) => lines.push(l) });
    const [s, b, p] = plan.images;
    expect(s.foregroundFraction).toBeGreaterThan(0.2);
    expect(s.foregroundFraction).toBeLessThan(0.36); // 500 × 600 of 1200 × 900 = 0.278
    expect(b.mask).toBeNull();
    expect(lines.some((l) => l.includes('blank.png') && l.includes('uniformly'))).toBe(true);
    expect(lines.some((l) => l.includes('slide.png') && l.includes('no resolution'))).toBe(true);
    // 0.75 µm/px on a 0.25 µm/px pyramid: downsample 3 → level with downsample 2, resampled by 1.5.
    expect(p.downsample).toBeCloseTo(3, 6);
    expect(p.levelDownsample).toBe(2);
    expect(plan.weights).toEqual([1, 1, 1]);
    // The plan crosses to workers by structured clone.
    expect(structuredClone(plan).images[0].foreground.length).toBe(s.foreground.length);
  });

  it("uses an image's stated µm per pixel where its file states none, and logs how it treated each image", async () => {
    const lines: string[] = [];
    const stated: SamplerImage = { ...slide, id: 'stated', statedMpp: 0.25 };
    const plan = await buildSamplingPlan([stated, blank, pyramid], { tileSize: 64, mpp: 0.75, log: (l) => lines.push(l) });
    // 0.75 on a stated 0.25 µm/px: downsample 3 (read from its 2× level and resampled); the blank
    // PNG states nothing and falls back to level 0, its own pixels (downsample 1).
    expect(plan.images[0].downsample).toBeCloseTo(3, 6);
    expect(plan.images[1].downsample).toBe(1);
    expect(lines).toContain(
      `${slide.path}: uses the pixel size stated for it, 0.25 µm/px (the file states none); sampled at 0.75 µm/px from level 1.`,
    );
    expect(lines).toContain(
      `${blank.path}: the file states no resolution (mpp); sampled at level 0 (its own pixels) instead of 0.75 µm/px.`,
    );
    expect(
      lines.some((l) => l.startsWith(`${pyramid.path}: 0.25`) && l.includes('stated in the file; sampled at 0.75 µm/px from level 1.')),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('1 image without a pixel size was sampled at a pyramid level'))).toBe(true);
  });

  it('rejects bad options and empty collections with BAD_INPUT', async () => {
    await expect(buildSamplingPlan([], { tileSize: 64 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(buildSamplingPlan([slide], { tileSize: 3 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('TileSampler', () => {
  it('draws tiles on the tissue, of the requested size, reproducibly', async () => {
    const plan = await buildSamplingPlan([slide], { tileSize: 64, minForeground: 0.5 });
    const sampler = new TileSampler(plan);
    const rng = Rng.seeded(3);
    let tissuePixels = 0,
      total = 0;
    for (let i = 0; i < 40; i++) {
      const t = await sampler.sample(rng);
      expect([t.tile.width, t.tile.height, t.tile.data.length]).toEqual([64, 64, 64 * 64 * 3]);
      expect(t.foreground).toBeGreaterThanOrEqual(0.5);
      expect(tileForeground(plan.images[0], t.x, t.y, t.size)).toBe(t.foreground);
      // The tile's centre lies on the tissue rectangle (up to one thumbnail pixel ≈ 5 px of slack).
      const cx = t.x + t.size / 2,
        cy = t.y + t.size / 2;
      expect(cx).toBeGreaterThan(TISSUE.x0 - 6);
      expect(cx).toBeLessThan(TISSUE.x1 + 6);
      expect(cy).toBeGreaterThan(TISSUE.y0 - 6);
      expect(cy).toBeLessThan(TISSUE.y1 + 6);
      for (let k = 0; k < t.tile.data.length; k += 3) {
        total++;
        if (t.tile.data[k + 1] < 150) tissuePixels++; // glass has G = 245
      }
    }
    expect(tissuePixels / total).toBeGreaterThan(0.5);
    const again = new TileSampler(plan);
    const a = await again.sample(Rng.seeded(9));
    const b = await sampler.sample(Rng.seeded(9));
    expect([a.x, a.y]).toEqual([b.x, b.y]);
    expect(Buffer.from(a.tile.data).equals(Buffer.from(b.tile.data))).toBe(true);
    await sampler.close();
    await again.close();
  });

  it('balances images equally by default, or by foreground area', async () => {
    const count = async (balance: 'image' | 'area'): Promise<Map<string, number>> => {
      const plan = await buildSamplingPlan([slide, blank], { tileSize: 32, balance });
      const sampler = new TileSampler(plan);
      const rng = Rng.seeded(4);
      const seen = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const t = await sampler.sample(rng);
        seen.set(t.imageId, (seen.get(t.imageId) ?? 0) + 1);
      }
      await sampler.close();
      return seen;
    };
    const eq = await count('image');
    expect(Math.abs((eq.get('slide') ?? 0) - 100)).toBeLessThan(25);
    // Area: slide foreground 0.278 × 1.08 Mpx vs blank (uniform) 0.48 Mpx → slide ≈ 38%.
    const area = await count('area');
    expect((area.get('slide') ?? 0) / 200).toBeGreaterThan(0.25);
    expect((area.get('slide') ?? 0) / 200).toBeLessThan(0.52);
  });

  it('resamples from the chosen pyramid level to the target resolution', async () => {
    const plan = await buildSamplingPlan([pyramid], { tileSize: 48, mpp: 0.75 });
    const sampler = new TileSampler(plan);
    const t = await sampler.sample(Rng.seeded(2));
    expect([t.tile.width, t.tile.height]).toEqual([48, 48]);
    expect(t.size).toBeCloseTo(144, 6); // 48 px × 3 level-0 px each
    // Compare with level 0 of the same square shrunk by libvips: the same picture, up to resampling.
    const { openImage } = await import('../readers/registry.js');
    const reader = await openImage(pyramid.path);
    const ref = await reader.readRegion(0, Math.round(t.x), Math.round(t.y), 144, 144);
    await reader.close();
    const small = await sharp(ref.data, { raw: { width: 144, height: 144, channels: 3 } })
      .resize(48, 48, { kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    let diff = 0;
    for (let i = 0; i < small.length; i++) diff += Math.abs(small[i] - t.tile.data[i]);
    expect(diff / small.length).toBeLessThan(25);
    await sampler.close();
  });
});

describe('sampling from a tile list (a curated set)', () => {
  it('draws every tile centred inside a listed square, the squares equally often, and skips images not planned', async () => {
    const lines: string[] = [];
    const squares = [
      { imageId: 'slide', x: 640, y: 120, size: 100 },
      { imageId: 'slide', x: 900, y: 500, size: 100 },
      { imageId: 'gone', x: 0, y: 0, size: 100 },
    ];
    const plan = await buildSamplingPlan([slide, blank], { tileSize: 64, tiles: squares, log: (l) => lines.push(l) });
    expect(plan.listed).toHaveLength(2);
    expect(lines).toContain('sampler: 1 listed tiles are on images no longer in the project; left out.');
    const sampler = new TileSampler(plan);
    const rng = Rng.seeded(5);
    const hits = [0, 0];
    for (let i = 0; i < 200; i++) {
      const t = await sampler.sample(rng);
      expect(t.imageId).toBe('slide');
      const cx = t.x + t.size / 2;
      const cy = t.y + t.size / 2;
      const at = squares.findIndex(
        (s) => s.imageId === 'slide' && cx >= s.x - 1 && cx <= s.x + s.size + 1 && cy >= s.y - 1 && cy <= s.y + s.size + 1,
      );
      expect(at, `tile centred at ${cx}, ${cy}`).toBeGreaterThanOrEqual(0);
      hits[at]++;
    }
    await sampler.close();
    expect(Math.min(...hits)).toBeGreaterThan(70);
  });

  it('draws the squares of a weighted list in proportion to their weights (a weight 0 never)', async () => {
    const squares = [
      { imageId: 'slide', x: 640, y: 120, size: 100, weight: 3 },
      { imageId: 'slide', x: 900, y: 500, size: 100, weight: 1 },
      { imageId: 'slide', x: 200, y: 800, size: 100, weight: 0 },
    ];
    const plan = await buildSamplingPlan([slide], { tileSize: 64, tiles: squares });
    expect(plan.listedCumulative).toEqual([3, 4, 4]);
    const sampler = new TileSampler(plan);
    const rng = Rng.seeded(6);
    const hits = [0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const t = await sampler.sample(rng);
      const cx = t.x + t.size / 2;
      const cy = t.y + t.size / 2;
      hits[squares.findIndex((s) => cx >= s.x - 1 && cx <= s.x + s.size + 1 && cy >= s.y - 1 && cy <= s.y + s.size + 1)]++;
    }
    await sampler.close();
    expect(hits[2]).toBe(0);
    expect(hits[0] / hits[1]).toBeGreaterThan(2.2); // 3 expected; binomial spread at 400 draws is about ±0.5
    expect(hits[0] / hits[1]).toBeLessThan(4.2);
    expect(drawWeighted([3, 4, 4], 0)).toBe(0);
    expect(drawWeighted([3, 4, 4], 0.75)).toBe(1);
    expect(drawWeighted([3, 4, 4], 0.9999)).toBe(1);
  });

  it('refuses a list none of whose images are in the project', async () => {
    await expect(buildSamplingPlan([slide], { tileSize: 64, tiles: [{ imageId: 'gone', x: 0, y: 0, size: 10 }] })).rejects.toThrow(
      /None of the tile list's images are in this project/,
    );
  });
});
