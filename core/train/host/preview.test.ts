// The PCA preview: a PNG with one pixel per patch of the grid (width = grid columns), whose colours
// separate regions with different features; the fixed tile is the image centre at the global crop size.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { writeMosaics } from '../../analysis/fixture.js';
import { Project } from '../../project/project.js';
import { trainConfig } from '../config.js';
import { pcaPng, previewTile } from './preview.js';

const dir = mkdtempSync(join(tmpdir(), 'dinoscope-train-preview-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('preview', () => {
  it('colours a 6 × 5 patch grid by the first principal components, one pixel per patch', async () => {
    const [H, W, D] = [6, 5, 16];
    const f = new Float32Array(H * W * D); // (H·W, D)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let d = 0; d < D; d++)
          f[(y * W + x) * D + d] = (x < 2 ? 1 : -1) * (d % 3 === 0 ? 1 : 0) + (y < 3 ? 0.5 : -0.5) * (d % 3 === 1 ? 1 : 0);
    const png = await pcaPng(f, H, W, D);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
    const px = (x: number, y: number): string => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)].join(',');
    // Four quadrants of distinct features → four distinct colours, constant within each; the third
    // component has no variance and stays flat.
    const quads = [px(0, 0), px(4, 0), px(0, 5), px(4, 5)];
    expect(new Set(quads).size).toBe(4);
    expect(px(1, 2)).toBe(px(0, 0));
    expect(new Set(Array.from({ length: H * W }, (_, i) => data[3 * i + 2])).size).toBe(1);
  });

  it('reads the centre of the first ok image at the global crop size, normalised', async () => {
    const [file] = await writeMosaics(dir, 1, { side: 256, stride: 64, dim: 8 });
    const project = await Project.create(join(dir, 'p'));
    await project.update((p) =>
      p.upsert({ id: 'a', path: file, name: 'm.png', status: 'ok', bytes: 1, mtime: 0, addedAt: new Date(0).toISOString() }),
    );
    const c = trainConfig('quick', {
      crops: { globalSize: 32, localSize: 16, localCrops: 2 },
      model: { vit: { arch: 'dinov2', patchSize: 8, registers: 0 } },
    });
    const tile = await previewTile(project, c, 8);
    expect(tile.length).toBe(3 * 32 * 32);
    expect(tile.every(Number.isFinite)).toBe(true);
    // ImageNet normalisation puts values around 0, within [-2.2, 2.7].
    expect(Math.min(...tile)).toBeGreaterThanOrEqual(-2.2);
    expect(Math.max(...tile)).toBeLessThanOrEqual(2.7);
    expect(await previewTile(project, c, 8)).toEqual(tile); // deterministic
  });
});
