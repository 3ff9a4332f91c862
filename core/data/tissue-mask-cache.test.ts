// The tissue mask is computed once per image and read by its other users. A real project with a
// half-tissue PNG: the overlay computes the mask and writes cache/tissue-masks/<id>.mask; the cached file
// is then replaced by a different mask under the same key (tissue in the top quarter only), and the
// training sampler, extraction and a fresh tile server all use that one, not a recomputation, and leave
// the file alone. Other parameters, or another thumbnail, recompute and replace it.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { importedProject } from '../app/fixture-service.js';
import { vitConfig } from '../model/config.js';
import { projectModelsDir } from '../model/manager/paths.js';
import { initParams } from '../model/params.js';
import { exportWeights } from '../model/weights/export.js';
import type { WeightTensor } from '../model/weights/safetensors.js';
import { TileService } from '../tiles/tile-service.js';
import { trainingImages } from '../train/project-images.js';
import { openImage } from './readers/registry.js';
import { tissueMaskFromJpeg, type Mask } from './tissue-mask.js';
import { cachedTissueMask, readTissueMaskFile, tissueMaskKey, writeTissueMaskFile } from './tissue-mask-cache.js';
import { buildSamplingPlan } from './train/sampler.js';

const W = 14 * 64; // 64 × 32 patches of 14 px
const H = 14 * 32;
let root: string;
let service: AppService;
let id: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-tissue-cache-'));
  // Left half: stained-looking texture; right half: white glass.
  const rgb = new Uint8Array(W * H * 3).fill(255);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W / 2; x++)
      rgb.set([150 + Math.round(50 * Math.sin(x / 7)), 60 + Math.round(40 * Math.cos(y / 5)), 160], 3 * (y * W + x));
  const png = join(root, 'half.png');
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(png);
  let ids: string[];
  ({ service, ids } = await importedProject(root, [png]));
  id = ids[0];
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(root, 'project')), 'tiny'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const count = (m: Mask): number => m.data.reduce((s, v) => s + v, 0);

describe('the tissue mask cache', () => {
  it('is written by the first user and read, unchanged, by the sampler, extraction and the overlay', async () => {
    const project = service.requireProject();
    const file = project.tissueMaskPath(id);
    const thumb = await readFile(project.thumbnailPath(id));
    await expect(stat(file)).rejects.toThrow();

    // The overlay is the first user: it computes the mask and caches it.
    const g = await service.tileSource(id);
    await service.overlayTile(id, 'tissue-mask', g.maxLevel, 0, 0);
    const computed = await tissueMaskFromJpeg(thumb);
    expect(await readTissueMaskFile(file, tissueMaskKey(thumb))).toEqual(computed);
    expect(count(computed)).toBeGreaterThan(0.4 * computed.data.length); // the left half
    expect(count(computed)).toBeLessThan(0.6 * computed.data.length);

    // Another mask under the same key: tissue in the top quarter only. Whoever recomputed would get the
    // left half back; whoever reads the cache gets this.
    const { width, height } = computed;
    const top: Mask = { width, height, data: new Uint8Array(width * height).map((_, i) => (Math.floor(i / width) < height / 4 ? 1 : 0)) };
    await writeTissueMaskFile(file, tissueMaskKey(thumb), top);
    const before = await stat(file);

    const plan = await buildSamplingPlan(trainingImages(project), { tileSize: 64 });
    expect(plan.images[0].mask).toEqual(top);

    const s = await service.extractFeatures({ modelId: 'tiny', level: 0, device: 'cpu', context: 'tiled' });
    // Patch rows 0-7 of 32 have their centres in the top quarter: 8 × 64 tissue patches.
    expect(
      service
        .requireProject()
        .featureSets()
        .find((f) => f.id === s.featureSet)!.images[0].tissuePatches,
    ).toBe(8 * 64);

    const tiles = new TileService({
      locate: () => ({ path: project.image(id)!.path, width: W, height: H }),
      thumbnailPath: (i) => project.thumbnailPath(i),
      tissueMaskPath: (i) => project.tissueMaskPath(i),
      openImage,
    });
    const png = await tiles.overlayTile(id, 'tissue-mask', g.maxLevel - 2, 0, 0); // the whole image at 1/4: 224 × 112
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(data[(info.width * 10 + 200) * 4 + 3]).toBe(255); // top right: tissue on the cached mask (glass on the image)
    expect(data[(info.width * 100 + 10) * 4 + 3]).toBe(0); // bottom left: tissue on the image, not on the cached mask
    await tiles.close();

    const after = await stat(file);
    expect([after.ino, after.mtimeMs, after.size]).toEqual([before.ino, before.mtimeMs, before.size]);
  }, 120_000);

  it('recomputes and replaces the file when a parameter or the thumbnail changes', async () => {
    const project = service.requireProject();
    const file = project.tissueMaskPath(id);
    const thumb = await readFile(project.thumbnailPath(id));
    const before = await stat(file);

    // A higher floor on the threshold: a new key, computed with that floor.
    const strict = { minThreshold: 200 };
    const m = await cachedTissueMask(thumb, file, strict);
    expect(m).toEqual(await tissueMaskFromJpeg(thumb, strict));
    expect(count(m)).toBeLessThan(count(await tissueMaskFromJpeg(thumb))); // the floor removes tissue
    expect((await stat(file)).ino).not.toBe(before.ino); // replaced by rename
    expect(await readTissueMaskFile(file, tissueMaskKey(thumb, strict))).toEqual(m);
    expect(await readTissueMaskFile(file, tissueMaskKey(thumb))).toBeNull();

    // The mode is part of the key: a fluorescence mask is never read for a brightfield one. Brightfield
    // keys are those made before modes existed, so masks cached then stay valid.
    expect(tissueMaskKey(thumb, { minThreshold: 20, mode: 'fluorescence' }).equals(tissueMaskKey(thumb))).toBe(false);
    expect(tissueMaskKey(thumb, { minThreshold: 20, mode: 'brightfield' }).equals(tissueMaskKey(thumb))).toBe(true);

    // Another thumbnail (the image re-imported): recomputed from its bytes.
    const blank = await sharp({ create: { width: 256, height: 128, channels: 3, background: '#f8f8f8' } })
      .jpeg()
      .toBuffer();
    const again = await cachedTissueMask(blank, file);
    expect(count(again)).toBe(0);
    expect(await readTissueMaskFile(file, tissueMaskKey(blank))).toEqual(again);

    // A damaged file is recomputed, not trusted.
    await writeTissueMaskFile(file, tissueMaskKey(thumb), { width: 4, height: 4, data: new Uint8Array(16) });
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 3));
    expect(await cachedTissueMask(thumb, file)).toEqual(await tissueMaskFromJpeg(thumb));
  }, 60_000);
});
