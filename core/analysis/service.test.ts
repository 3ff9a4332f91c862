// The analyses through the real AppService on a real project: texture-mosaic PNGs imported as images,
// synthetic feature stores and index in the extraction layout (fixture.ts), overlay tiles decoded with
// sharp, exports read back (npy header, safetensors, Zarr via zarrita, GeoJSON, CSV, PNG).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import type { AppService } from '../app/service.js';
import { openImage } from '../data/readers/registry.js';
import { readSafetensors } from '../model/weights/safetensors.js';
import { textureAt, writeMosaics, type MosaicSpec } from './fixture.js';
import { analysisProject } from '../app/fixture-service.js';
import { pcaDefaultThreshold } from './pca-maps.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 32 };
const GRID = SPEC.side / SPEC.stride;
let root: string;
let service: AppService;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-analysis-'));
  ({ service, ids } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 3, SPEC), SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Texture under a level-0 point of mosaic i. */
const textureOf = (i: number, x: number, y: number): number => textureAt(i, Math.floor(x / SPEC.stride), Math.floor(y / SPEC.stride), GRID);

async function decodePng(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(4);
  return { data, width: info.width, height: info.height };
}

describe('similarity search', () => {
  it('a click finds patches of the same texture on every image, and draws a heatmap over that texture', async () => {
    const x = 100;
    const y = 300; // image 0, bottom-left quadrant
    const t = textureOf(0, x, y);
    const r = await service.similarityQuery({ imageId: ids[0], points: [{ x, y }], k: 10 });
    expect(r.queryPatches).toBe(1);
    // The marker of the query: the clicked patch's cell in level-0 pixels.
    expect(r.queryBoxes).toEqual([{ x: 7 * SPEC.stride, y: 21 * SPEC.stride, width: SPEC.stride, height: SPEC.stride }]);
    expect(r.matches).toHaveLength(10);
    for (const m of r.matches) expect(textureOf(ids.indexOf(m.imageId), m.x, m.y)).toBe(t);
    expect(new Set(r.matches.map((m) => m.imageId)).size).toBeGreaterThan(1);
    expect(r.matches.map((m) => m.score)).toEqual([...r.matches.map((m) => m.score)].sort((a, b) => b - a));
    // NMS: no two matches on one image within 3 patches.
    for (const a of r.matches)
      for (const b of r.matches)
        if (a !== b && a.imageId === b.imageId) expect(Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y)) / SPEC.stride).toBeGreaterThan(3);
    expect(r.matches[0].thumbnailUrl).toMatch(/^\/tiles\/[0-9a-f]{16}\/\d+\/\d+_\d+\.jpeg$/);
    expect(r.overlay).toMatchObject({ id: 'similarity', imageId: ids[0] });
    expect(r.overlay.tileUrl).toMatch(/^\/overlays\/[0-9a-f]{16}\/similarity\/\{level\}\/\{x\}_\{y\}\.png\?v=\d+$/);
    // The full-resolution tile (level 9 of a 448 px image: maxLevel = 9), 256 × 256 from (0, 0).
    const png = await decodePng(await service.overlayTile(ids[0], 'similarity', 9, 0, 0));
    expect([png.width, png.height]).toEqual([256, 256]);
    let inside = 0;
    let outside = 0;
    for (let py = 0; py < 256; py += 7) {
      for (let px = 0; px < 256; px += 7) {
        const a = png.data[4 * (py * 256 + px) + 3];
        if (textureOf(0, px, py) === t) inside += a > 0 ? 1 : 0;
        else outside += a > 0 ? 1 : 0;
      }
    }
    // The top-left tile covers quadrant 0 (224 px) and strips of quadrants 1-3; t is the bottom-left one.
    expect(outside).toBe(0);
    expect(inside).toBe(5 * 32); // 5 sampled rows of the strip × 32 sampled columns
    const far = await decodePng(await service.overlayTile(ids[0], 'similarity', 9, 0, 1)); // y 256..447: bottom-left is t
    expect(far.data[4 * (100 * 256 + 60) + 3]).toBeGreaterThan(0);
    expect(far.data[4 * (100 * 256 + 240) + 3]).toBe(0);
  });

  it("a heatmap carries its colour scale: the legend's range and ramp ends, per image", async () => {
    const r = await service.similarityQuery({ imageId: ids[0], points: [{ x: 100, y: 300 }], k: 5 });
    const scale = r.overlay.scale!;
    expect(scale.unit).toBe('cos');
    expect(scale.max).toBeGreaterThan(scale.min);
    expect(r.overlay.legend.map((l) => l.label)).toEqual(
      [scale.min, (scale.min + scale.max) / 2, scale.max].map((v) => `cos ${v.toFixed(2)}`),
    );
    expect(scale.colors[0]).toBe(r.overlay.legend[0].color);
    expect(scale.colors.at(-1)).toBe(r.overlay.legend[2].color);
    expect(scale.colors.length).toBeGreaterThan(3);
    // The other image's heatmap has its own scale.
    const other = await service.similarityHeatmap(ids[1]);
    expect(other.overlay.scale).toMatchObject({ unit: 'cos' });
    expect(other.overlay.scale!.max).toBeGreaterThan(other.overlay.scale!.min);
  });

  it("the last query's heatmap over another image lights that image's patches of the queried texture", async () => {
    const t = textureOf(0, 100, 300);
    await service.similarityQuery({ imageId: ids[0], points: [{ x: 100, y: 300 }], k: 5 });
    const h = await service.similarityHeatmap(ids[1]);
    expect(h.stride).toBe(SPEC.stride);
    expect(h.overlay).toMatchObject({ id: 'similarity', imageId: ids[1] });
    // Level 9 of a 448 px image is full resolution: tiles (0, 0) and (1, 1) cover the whole image.
    let inside = 0;
    let outside = 0;
    for (const [tx, ty] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]) {
      const png = await decodePng(await service.overlayTile(ids[1], 'similarity', 9, tx, ty));
      for (let py = 3; py < png.height; py += 14) {
        for (let px = 3; px < png.width; px += 14) {
          const lit = png.data[4 * (py * png.width + px) + 3] > 0;
          if (textureOf(1, tx * 256 + px, ty * 256 + py) === t) inside += lit ? 1 : 0;
          else outside += lit ? 1 : 0;
        }
      }
    }
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(200); // of the 256 cells of that texture's quadrant
  });

  it('shift-click averages patches; a rectangle queries its mean; bad input is refused', async () => {
    const a = await service.similarityQuery({
      imageId: ids[1],
      points: [
        { x: 50, y: 50 },
        { x: 60, y: 60 },
      ],
      k: 5,
    });
    expect(a.queryPatches).toBe(2);
    expect(a.queryBoxes).toEqual([
      { x: 42, y: 42, width: 14, height: 14 },
      { x: 56, y: 56, width: 14, height: 14 },
    ]);
    for (const m of a.matches) expect(textureOf(ids.indexOf(m.imageId), m.x, m.y)).toBe(textureOf(1, 50, 50));
    const b = await service.similarityQuery({ imageId: ids[2], rect: { x: 250, y: 250, width: 120, height: 90 }, k: 5 });
    expect(b.queryPatches).toBe((Math.floor(369 / 14) - Math.floor(250 / 14) + 1) * (Math.floor(339 / 14) - Math.floor(250 / 14) + 1)); // cells 17..26 × 17..24
    expect(b.queryBoxes).toEqual([{ x: 17 * 14, y: 17 * 14, width: 10 * 14, height: 8 * 14 }]);
    for (const m of b.matches) expect(textureOf(ids.indexOf(m.imageId), m.x, m.y)).toBe(textureOf(2, 300, 300));
    await expect(service.similarityQuery({ imageId: ids[0], points: [{ x: 5000, y: 1 }] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('outside'),
    });
    await expect(service.similarityQuery({ imageId: ids[0], points: [] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(service.similarityQuery({ imageId: ids[0], points: [{ x: 1, y: 1 }], k: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('PCA and clusters', () => {
  it('PCA colours a texture the same on every image', async () => {
    const o0 = await service.pcaOverlay(ids[0], { foregroundThreshold: -10 });
    const o1 = await service.pcaOverlay(ids[1], { foregroundThreshold: -10 });
    expect(o0.legend.length).toBeGreaterThan(2);
    expect(o1.tileUrl).not.toBe(o0.tileUrl.replace(ids[0], ids[1]));
    const p0 = await decodePng(await service.overlayTile(ids[0], 'pca', 9, 0, 0));
    const p1 = await decodePng(await service.overlayTile(ids[1], 'pca', 9, 0, 0));
    // Texture at (40, 40) on image 1 is texture 1; on image 0 texture 1 is top-right: (300 → tile 1).
    const p0r = await decodePng(await service.overlayTile(ids[0], 'pca', 9, 1, 0));
    const at = (p: { data: Buffer; width: number }, x: number, y: number): number[] => [
      ...p.data.subarray(4 * (y * p.width + x), 4 * (y * p.width + x) + 4),
    ];
    expect(textureOf(1, 40, 40)).toBe(textureOf(0, 300, 40));
    const c1 = at(p1, 40, 40);
    const c0 = at(p0r, 300 - 256, 40);
    expect(c1[3]).toBe(255);
    for (let c = 0; c < 3; c++) expect(Math.abs(c1[c] - c0[c])).toBeLessThan(60);
    // Different textures get different colours.
    const other = at(p0, 40, 40);
    expect(Math.max(...[0, 1, 2].map((c) => Math.abs(other[c] - c1[c])))).toBeGreaterThan(40);
  });

  it('PCA of a masked set colours every indexed patch by default; a threshold on the first component is asked for', async () => {
    /** Opaque pixels of image 0's PCA overlay at level 9 (the whole 448 px mosaic in four 256 px tiles). */
    const opaque = async (): Promise<number> => {
      let n = 0;
      for (const [tx, ty] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const p = await decodePng(await service.overlayTile(ids[0], 'pca', 9, tx, ty));
        for (let i = 3; i < p.data.length; i += 4) if (p.data[i] === 255) n++;
      }
      return n;
    };
    // The set indexes every patch of the mosaic (its own tissue mask found no glass): all of it is foreground.
    const byDefault = await service.pcaOverlay(ids[0]);
    expect(byDefault.legend.map((l) => l.label)).toContain('background: outside the tissue mask');
    expect(await opaque()).toBe(SPEC.side * SPEC.side);
    // The DINOv2 recipe's threshold at 0 on the first component, asked for: it splits textures here and
    // leaves some of the tissue out (what the default did before, hiding whole tissue regions).
    const atZero = await service.pcaOverlay(ids[0], { foregroundThreshold: 0 });
    expect(atZero.legend.map((l) => l.label)).toContain('background: first component ≤ 0.00');
    const kept = await opaque();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(0.9 * SPEC.side * SPEC.side);
    // null: no threshold, as the default of a masked set.
    await service.pcaOverlay(ids[0], { foregroundThreshold: null });
    expect(await opaque()).toBe(SPEC.side * SPEC.side);
  });

  it('the PCA foreground of a set extracted with the mask off is the recipe: first component above 0', () => {
    expect(pcaDefaultThreshold({ mask: 'off' })).toBe(0);
    expect(pcaDefaultThreshold({})).toBeNull();
    expect(pcaDefaultThreshold({ mask: 'auto' })).toBeNull();
    expect(pcaDefaultThreshold({ mask: 'brightfield' })).toBeNull();
    expect(pcaDefaultThreshold({ mask: 'fluorescence' })).toBeNull();
  });

  it("k-means gives each texture one cluster on every image, and lists a cluster's regions", async () => {
    const o = await service.clusterOverlay(ids[0], 4);
    expect(o.legend).toHaveLength(4);
    const labelOf = async (i: number, x: number, y: number): Promise<string> => {
      const p = await decodePng(await service.overlayTile(ids[i], 'clusters', 9, Math.floor(x / 256), Math.floor(y / 256)));
      const o4 = 4 * ((y % 256) * p.width + (x % 256));
      return [...p.data.subarray(o4, o4 + 4)].join(',');
    };
    for (const i of [1, 2]) await service.clusterOverlay(ids[i], 4);
    const byTexture = new Map<number, string>();
    for (let i = 0; i < 3; i++) {
      for (const [x, y] of [
        [50, 50],
        [350, 50],
        [50, 350],
        [350, 350],
      ]) {
        const t = textureOf(i, x, y);
        const colour = await labelOf(i, x, y);
        if (!byTexture.has(t)) byTexture.set(t, colour);
        expect(colour).toBe(byTexture.get(t));
      }
    }
    expect(new Set(byTexture.values()).size).toBe(4);
    const regions = await service.clusterRegions(0);
    expect(regions.length).toBe(3); // one quadrant per image
    for (const r of regions) expect(r.patches).toBe((GRID / 2) ** 2);
    await expect(service.clusterRegions(9)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(service.clusterOverlay(ids[0], 1)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('exports', () => {
  it("writes features as npy, safetensors and OME-Zarr that read back with the grid's shape", async () => {
    const npy = await service.exportAnalysis({ format: 'npy', imageIds: [ids[0]] });
    const head = (await readFile(npy.paths[0])).subarray(0, 128).toString('latin1');
    expect(head).toContain(`'descr': '<f2'`);
    expect(head).toContain(`'shape': (${GRID}, ${GRID}, ${SPEC.dim})`);
    const st = await service.exportAnalysis({ format: 'safetensors', imageIds: [ids[1]] });
    const { tensors } = await readSafetensors(st.paths[0]);
    expect(tensors.get('features')?.shape).toEqual([GRID, GRID, SPEC.dim]);
    const z = await service.exportAnalysis({ format: 'zarr', imageIds: [ids[2]] });
    const group = await zarr.open(new FileSystemStore(z.paths[0]), { kind: 'group' });
    const ome = (group.attrs as { ome: { multiscales: { datasets: { path: string }[] }[] } }).ome;
    expect(ome.multiscales[0].datasets.length).toBeGreaterThanOrEqual(1);
    const arr = await zarr.open(group.resolve('0'), { kind: 'array' });
    expect(arr.shape).toEqual([SPEC.dim, GRID, GRID]);
    const chunk = await zarr.get(arr, [null, 5, 5]);
    expect((chunk.data as Float32Array).length).toBe(SPEC.dim);
  });

  it('writes cluster polygons as GeoJSON, maps as PNG, search results as CSV', async () => {
    await service.similarityQuery({ imageId: ids[0], points: [{ x: 30, y: 30 }], k: 7 });
    const csv = await service.exportAnalysis({ format: 'csv' });
    const lines = (await readFile(csv.paths[0], 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe('image,x,y,score,rank');
    expect(lines).toHaveLength(8);
    const gj = await service.exportAnalysis({ format: 'geojson', imageIds: [ids[0]], k: 4 });
    const fc = JSON.parse(await readFile(gj.paths[0], 'utf8')) as { type: string; features: { properties: { objectType: string } }[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features).toHaveLength(4);
    expect(fc.features[0].properties.objectType).toBe('annotation');
    const sim = await service.exportAnalysis({ format: 'geojson', what: 'similarity' });
    expect(JSON.parse(await readFile(sim.paths[0], 'utf8')).features).toHaveLength(1);
    const png = await service.exportAnalysis({ format: 'png', what: 'clusters', imageIds: [ids[2]] });
    const meta = await sharp(png.paths[0]).metadata();
    expect([meta.width, meta.height]).toEqual([GRID, GRID]);
    await expect(service.exportAnalysis({ format: 'tiff' as 'png' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(service.exportAnalysis({ format: 'csv', what: 'pca' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('writes PCA and cluster maps as pyramidal OME-TIFF that re-open through our readers at the grid size', async () => {
    for (const what of ['pca', 'clusters'] as const) {
      const res = await service.exportAnalysis({ format: 'ome-tiff', what, imageIds: [ids[1]], k: 4 });
      expect(res.paths).toHaveLength(what === 'pca' ? 1 : 2); // clusters: label image + colour preview
      expect(res.paths[0]).toMatch(/\.ome\.tif$/);
      const reader = await openImage(res.paths[0]);
      try {
        expect(reader.meta.format).toBe('ome-tiff');
        expect([reader.meta.width, reader.meta.height]).toEqual([GRID, GRID]); // one pixel per patch
        expect(reader.meta.mpp).toBeNull(); // the mosaic PNGs carry no calibration, so neither does the map
      } finally {
        await reader.close();
      }
    }
    // Each texture quadrant is one label in the cluster map (one 8-bit channel): the map's pixels follow the grid.
    const res = await service.exportAnalysis({ format: 'ome-tiff', what: 'clusters', imageIds: [ids[1]], k: 4 });
    expect((await sharp(res.paths[0]).metadata()).channels).toBe(1);
    const { data, info } = await sharp(res.paths[0]).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([GRID, GRID, 1]);
    const colourAt = (gx: number, gy: number): string => String(data[gy * GRID + gx]);
    for (let gy = 0; gy < GRID; gy += 3)
      for (let gx = 0; gx < GRID; gx += 3) {
        const t = textureAt(1, gx, gy, GRID);
        const ref = [...Array(GRID * GRID).keys()].find((i) => textureAt(1, i % GRID, Math.floor(i / GRID), GRID) === t)!;
        expect(colourAt(gx, gy)).toBe(colourAt(ref % GRID, Math.floor(ref / GRID)));
      }
  });
});
