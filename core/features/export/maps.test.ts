// Feature-map and overlay exports re-open with independent readers: safetensors through our reader,
// OME-Zarr through zarrita, PNG through sharp, the pyramidal OME-TIFF through our own image readers.
import { FileSystemStore } from '@zarrita/storage';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { openImage } from '../../data/readers/registry.js';
import { readSafetensors, SafetensorsFile } from '../../model/weights/safetensors.js';
import { clusterColor } from '../regions.js';
import { arraySource, type GridGeometry } from './feature-grid.js';
import { omeXml, writeMapOmeTiff } from './ome-tiff.js';
import { writeFeatureOmeZarr } from './ome-zarr.js';
import { labelsToRgb, writeMapPng } from './rgb-map.js';
import { writeFeatureSafetensors } from './safetensors.js';

const W = 75;
const H = 50;
const D = 6;
// (H, W, D) grid: feature k of patch (x, y) = x + 100·y + 0.25·k, exact in float32 and pooled means.
const grid = Float32Array.from({ length: W * H * D }, (_, i) => {
  const k = i % D;
  const p = (i - k) / D;
  return (p % W) + 100 * Math.floor(p / W) + 0.25 * k;
});
const geometry: GridGeometry = { stride: 224, origin: { x: 112, y: 56 }, mpp: 0.5 };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-maps-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('feature maps', () => {
  it('safetensors: features[y, x, c] and the grid geometry read back', async () => {
    const mask = Uint8Array.from({ length: W * H }, (_, i) => (i % 3 ? 1 : 0));
    const path = join(dir, 'a.safetensors');
    await writeFeatureSafetensors(path, arraySource(grid, W, H, D), geometry, { dtype: 'F32', mask, metadata: { image: 'slide-1' } });
    const { tensors, metadata } = await readSafetensors(path);
    const f = tensors.get('features');
    expect(f?.shape).toEqual([H, W, D]);
    expect(Array.from(f?.data ?? [])).toEqual(Array.from(grid));
    expect(Array.from(tensors.get('mask')?.data ?? []).slice(0, 4)).toEqual([0, 1, 1, 0]);
    expect(metadata).toMatchObject({
      stride: '224',
      origin_x: '112',
      origin_y: '56',
      mpp: '0.5',
      image: 'slide-1',
      layout: 'features[y, x, channel]',
    });
    // float16 by default: within half-precision rounding of values up to ~5000.
    await writeFeatureSafetensors(join(dir, 'b.safetensors'), arraySource(grid, W, H, D), geometry);
    const file = await SafetensorsFile.open(join(dir, 'b.safetensors'));
    try {
      expect(file.info('features').dtype).toBe('F16');
      const half = await file.readFloat32('features');
      half.data.forEach((v, i) => expect(Math.abs(v - grid[i])).toBeLessThanOrEqual(Math.abs(grid[i]) * 2 ** -11));
    } finally {
      await file.close();
    }
  });

  it('OME-Zarr: zarrita reads every level; level l+1 is the 2 × 2 mean; transforms align with the image in µm', async () => {
    const path = join(dir, 'f.zarr');
    const { shapes } = await writeFeatureOmeZarr(path, arraySource(grid, W, H, D), geometry, { chunk: 16 });
    expect(shapes).toEqual([
      [D, 50, 75],
      [D, 25, 38],
      [D, 13, 19],
      [D, 7, 10],
    ]);
    const store = new FileSystemStore(path);
    const root = zarr.root(store);
    const group = await zarr.open.v3(root, { kind: 'group' });
    const ms = (
      group.attrs.ome as {
        multiscales: {
          axes: { unit?: string }[];
          datasets: { path: string; coordinateTransformations: { scale?: number[]; translation?: number[] }[] }[];
        }[];
      }
    ).multiscales[0];
    expect(ms.axes.map((a) => a.unit)).toEqual([undefined, 'micrometer', 'micrometer']);
    expect(ms.datasets.map((d) => d.coordinateTransformations[0].scale)).toEqual([
      [1, 112, 112],
      [1, 224, 224],
      [1, 448, 448],
      [1, 896, 896],
    ]);
    expect(ms.datasets[2].coordinateTransformations[1].translation).toEqual([0, 28, 56]);
    const l0 = await zarr.get(await zarr.open.v3(root.resolve('0'), { kind: 'array' }));
    expect(l0.shape).toEqual([D, H, W]);
    const v0 = l0.data as Float32Array; // (D, H, W)
    for (const [x, y, k] of [
      [0, 0, 0],
      [74, 49, 5],
      [17, 33, 2],
    ])
      expect(v0[k * H * W + y * W + x]).toBe(grid[(y * W + x) * D + k]);
    const l1 = await zarr.get(await zarr.open.v3(root.resolve('1'), { kind: 'array' }));
    const v1 = l1.data as Float32Array; // (D, 25, 38)
    // Cell (x=37, y=3) of level 1 pools level-0 columns 74 only (the grid's odd width) and rows 6, 7.
    const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(v1[2 * 25 * 38 + 3 * 38 + 37]).toBeCloseTo(mean([74 + 600, 74 + 700].map((v) => v + 0.5)), 4);
    expect(v1[0 * 25 * 38 + 10 * 38 + 5]).toBeCloseTo(mean([10, 11, 10, 11].map((x, i) => x + 100 * (20 + (i >> 1)))), 4);
    const l3 = await zarr.get(await zarr.open.v3(root.resolve('3'), { kind: 'array' }));
    expect(l3.shape).toEqual([D, 7, 10]);
    // The physical centre of level-3 cell (0, 0) equals the centre of the level-0 block it pools.
    const t = ms.datasets[3].coordinateTransformations;
    expect((t[1].translation?.[2] ?? 0) + 0.5 * (t[0].scale?.[2] ?? 0)).toBe((geometry.origin.x + 4 * geometry.stride) * 0.5);
  });

  it('OME-Zarr pooling with a mask averages tissue cells only', async () => {
    const g = new Float32Array([1, 2, 3, 4]); // (2, 2, 1)
    const path = join(dir, 'm.zarr');
    await writeFeatureOmeZarr(
      path,
      arraySource(g, 2, 2, 1),
      { stride: 14, origin: { x: 0, y: 0 }, mpp: null },
      { chunk: 1, mask: new Uint8Array([1, 0, 0, 1]) },
    );
    const l1 = await zarr.get(await zarr.open.v3(zarr.root(new FileSystemStore(path)).resolve('1'), { kind: 'array' }));
    expect(Array.from(l1.data as Float32Array)).toEqual([2.5]);
    const meta = JSON.parse(await readFile(join(path, 'zarr.json'), 'utf8'));
    expect(meta.attributes.ome.multiscales[0].axes[1].unit).toBeUndefined();
  });
});

describe('overlay maps', () => {
  const labels = Int32Array.from({ length: W * H }, (_, i) => (i % W < 5 ? -1 : Math.floor((i % W) / 15) + 3 * Math.floor(i / W / 20)));
  const map = labelsToRgb(labels, W, H);

  it('cluster map as PNG: sharp reads the same colours (clusterColor, black background)', async () => {
    const path = join(dir, 'clusters.png');
    await writeMapPng(path, map, 3);
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([W * 3, H * 3, 3]);
    const px = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    expect(px(0, 0)).toEqual([0, 0, 0]);
    expect(px(20 * 3 + 1, 30 * 3 + 2)).toEqual(clusterColor(1 + 3));
  });

  it('PCA-style RGB map as pyramidal OME-TIFF: our reader opens it with its levels and µm per pixel', async () => {
    // A smooth RGB gradient, 4 pixels per patch: 300 × 200 pixels, 256-pixel tiles → a 2-level pyramid.
    const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) =>
      i % 3 === 0 ? ((i / 3) % W) * 3 : i % 3 === 1 ? Math.floor(i / 3 / W) * 5 : 128,
    );
    const path = join(dir, 'pca.ome.tiff');
    await writeMapOmeTiff(path, { rgb, width: W, height: H }, geometry, { pixelsPerPatch: 4, name: 'pca slide-1', tile: 128 });
    const img = await openImage(path);
    try {
      expect(img.meta.format).toBe('ome-tiff');
      expect([img.meta.width, img.meta.height]).toEqual([300, 200]);
      expect(img.meta.levels.length).toBeGreaterThanOrEqual(2);
      expect(img.meta.levels[1].width).toBe(150);
      expect(img.meta.mpp).toBeCloseTo((224 * 0.5) / 4, 9);
      const r = await img.readRegion(0, 40, 80, 8, 4);
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 8; x++) {
          const gx = Math.floor((40 + x) / 4);
          const gy = Math.floor((80 + y) / 4);
          expect(Array.from(r.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3))).toEqual([gx * 3, gy * 5, 128]);
        }
    } finally {
      await img.close();
    }
    expect(omeXml('a & b', 2, 3, null)).toContain('Name="a &amp; b"');
  });
});
