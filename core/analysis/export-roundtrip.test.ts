// Every export of a calibrated image re-read by a reader other than ours: the source TIFF states 2 µm per
// pixel and features come one per 16-pixel patch, so every map pixel is 32 µm.
//   OME-Zarr  → zarrita: NGFF 0.5 axes y, x in "micrometer", scale 32 · 2^l µm, values as in the store;
//   PNG       → pHYs parsed from the bytes: 31250 pixels per metre;
//   OME-TIFF  → tifffile (Debian python3-tifffile): XResolution 312.5 px/cm, ResolutionUnit centimetre,
//               OME PhysicalSizeX/Y 32; clusters a one-channel uint8 label image (0 background, 1..k);
//   CSV       → without a query: one row per patch, coordinates and features, no score columns;
//   QuPath    → GeoJSON per image plus open-in-qupath.txt naming the image file.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { FileSystemStore } from '@zarrita/storage';
import type { AppService } from '../app/service.js';
import { openFeatureStore } from '../features/store/reader.js';
import { textureAt, writeMosaics, type MosaicSpec } from './fixture.js';
import { analysisProject } from '../app/fixture-service.js';

const MPP = 2;
const SPEC: MosaicSpec = { side: 1024, stride: 16, dim: 8 };
const GRID = SPEC.side / SPEC.stride; // 64
const UM = SPEC.stride * MPP; // 32 µm per patch
const PY = '/usr/bin/python3';
let root: string;
let service: AppService;
let ids: string[];
let paths: string[];
let pngs: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-export-rt-'));
  pngs = await writeMosaics(join(root, 'png'), 2, SPEC);
  paths = await Promise.all(
    pngs.map(async (p, i) => {
      const t = join(root, `calibrated-${i}.tif`);
      await sharp(p)
        .tiff({ xres: 1000 / MPP, yres: 1000 / MPP, resolutionUnit: 'cm' })
        .toFile(t); // pixels per mm
      return t;
    }),
  );
  ({ service, ids } = await analysisProject(root, paths, SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The pHYs chunk of a PNG: pixels per unit x, y and the unit byte (1 = metre); null when absent. */
function phys(png: Uint8Array): { x: number; y: number; unit: number } | null {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let p = 8; p + 8 <= png.length; p += 12 + dv.getUint32(p)) {
    if (Buffer.from(png.subarray(p + 4, p + 8)).toString('latin1') === 'pHYs')
      return { x: dv.getUint32(p + 8), y: dv.getUint32(p + 12), unit: png[p + 16] };
  }
  return null;
}

/** tifffile's view of a TIFF: level-0 resolution tags, the OME pixel size, every series level's shape, dtype and values. */
function tifffile(path: string): {
  xres: number;
  yres: number;
  unit: number;
  physX: number | null;
  physY: number | null;
  levels: { shape: number[]; dtype: string; xres: number; unit: number }[];
  values: number[];
  atQuadrants: number[];
  nearest: boolean;
} {
  const script = `
import json, sys, numpy, tifffile
with tifffile.TiffFile(sys.argv[1]) as t:
    p = t.pages[0]
    xr = p.tags['XResolution'].value; yr = p.tags['YResolution'].value
    px = t.ome_metadata.split('PhysicalSizeX="')[1].split('"')[0] if 'PhysicalSizeX=' in t.ome_metadata else 'nan'
    py = t.ome_metadata.split('PhysicalSizeY="')[1].split('"')[0] if 'PhysicalSizeY=' in t.ome_metadata else 'nan'
    s = t.series[0]
    a = s.levels[0].asarray()
    levels = [{'shape': list(l.shape), 'dtype': str(l.dtype), 'xres': l.keyframe.tags['XResolution'].value[0] / l.keyframe.tags['XResolution'].value[1], 'unit': int(l.keyframe.tags['ResolutionUnit'].value)} for l in s.levels]
    vals = [int(v) for v in numpy.unique(a)] if a.ndim == 2 else []
    q = a.shape[0] // 4
    quads = [int(a[q, q]), int(a[q, 3 * q]), int(a[3 * q, q]), int(a[3 * q, 3 * q])] if a.ndim == 2 else []
    nearest = all(numpy.array_equal(s.levels[l].asarray(), a[::2 ** l, ::2 ** l]) for l in range(1, len(s.levels))) if a.ndim == 2 else False
    print(json.dumps({'xres': xr[0] / xr[1], 'yres': yr[0] / yr[1], 'unit': int(p.tags['ResolutionUnit'].value), 'physX': float(px) if px != 'nan' else None, 'physY': float(py) if py != 'nan' else None, 'levels': levels, 'values': vals, 'atQuadrants': quads, 'nearest': nearest}))
`;
  return JSON.parse(execFileSync(PY, ['-c', script, path]).toString()) as ReturnType<typeof tifffile>;
}

describe('exports of a 2 µm/px image with 16-pixel patches (32 µm per map pixel)', () => {
  it('python3-tifffile is installed (the TIFF checks below need it)', () => {
    expect(() => execFileSync(PY, ['-c', 'import tifffile'])).not.toThrow();
  });

  it("OME-Zarr features: zarrita reads NGFF 0.5 axes in micrometres, scale 32 · 2^l µm, and the store's values", async () => {
    const res = await service.exportAnalysis({ format: 'zarr', imageIds: [ids[0]] });
    const group = await zarr.open(new FileSystemStore(res.paths[0]), { kind: 'group' });
    const ome = (
      group.attrs as {
        ome: {
          version: string;
          multiscales: {
            axes: { name: string; type: string; unit?: string }[];
            datasets: { path: string; coordinateTransformations: { type: string; scale?: number[]; translation?: number[] }[] }[];
          }[];
        };
      }
    ).ome;
    expect(ome.version).toBe('0.5');
    const ms = ome.multiscales[0];
    expect(ms.axes).toEqual([
      { name: 'c', type: 'channel' },
      { name: 'y', type: 'space', unit: 'micrometer' },
      { name: 'x', type: 'space', unit: 'micrometer' },
    ]);
    ms.datasets.forEach((d, l) => {
      expect(d.coordinateTransformations[0]).toEqual({ type: 'scale', scale: [1, UM * 2 ** l, UM * 2 ** l] });
      expect(d.coordinateTransformations[1]).toEqual({ type: 'translation', translation: [0, 0, 0] });
    });
    const arr = await zarr.open(group.resolve('0'), { kind: 'array' });
    expect(arr.shape).toEqual([SPEC.dim, GRID, GRID]);
    const got = (await zarr.get(arr, [null, 40, 9])).data as Float32Array;
    const store = await openFeatureStore(
      join(
        service.requireProject().dir,
        service
          .requireProject()
          .featureSets()[0]
          .images.find((i) => i.imageId === ids[0])!.store,
      ),
    );
    const want = await store.readRect(9, 40, 1, 1);
    for (let c = 0; c < SPEC.dim; c++) expect(got[c]).toBeCloseTo(want[c], 6);
  });

  it('PNG maps carry pHYs of 31250 pixels per metre; clusters are a one-channel label image with a colour preview', async () => {
    const pca = await service.exportAnalysis({ format: 'png', what: 'pca', imageIds: [ids[0]] });
    expect(phys(await readFile(pca.paths[0]))).toEqual({ x: 31250, y: 31250, unit: 1 });
    const cl = await service.exportAnalysis({ format: 'png', what: 'clusters', imageIds: [ids[0]], k: 4 });
    expect(cl.paths.map((p) => basename(p).replace(/^.*-[^.]+\./, ''))).toEqual(['clusters.png', 'clusters.preview.png']);
    for (const p of cl.paths) expect(phys(await readFile(p))).toEqual({ x: 31250, y: 31250, unit: 1 });
    const ihdr = (await readFile(cl.paths[0])).subarray(16, 26); // width, height, bit depth, colour type
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([GRID, GRID, 8, 0]); // 8-bit greyscale
    const meta = await sharp(cl.paths[0]).metadata();
    expect([meta.width, meta.height, meta.channels, meta.space, meta.depth]).toEqual([GRID, GRID, 1, 'b-w', 'uchar']);
    const { data } = await sharp(cl.paths[0]).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const at = (gx: number, gy: number): number => data[gy * GRID + gx];
    const q = GRID / 4;
    const quads = [at(q, q), at(3 * q, q), at(q, 3 * q), at(3 * q, 3 * q)];
    expect(new Set(quads).size).toBe(4); // four textures, four labels
    for (const v of data) expect(v >= 1 && v <= 4).toBe(true); // every patch has features: no 0
    // Labels follow the textures: a cell carries the label of its quadrant's texture.
    for (let gy = 0; gy < GRID; gy += 5)
      for (let gx = 0; gx < GRID; gx += 5) expect(at(gx, gy)).toBe(quads[(gy < GRID / 2 ? 0 : 2) + (gx < GRID / 2 ? 0 : 1)]);
    expect(textureAt(0, q, q, GRID)).not.toBe(textureAt(0, 3 * q, q, GRID));
    const two = await service.exportAnalysis({ format: 'png', what: 'pca', imageIds: [ids[0]], pixelsPerPatch: 2 });
    expect(phys(await readFile(two.paths[0]))).toEqual({ x: 62500, y: 62500, unit: 1 });
  });

  it('OME-TIFF maps: tifffile reads 312.5 px/cm, ResolutionUnit centimetre, PhysicalSize 32 µm; clusters as uint8 labels 1..k', async () => {
    const pca = await service.exportAnalysis({ format: 'ome-tiff', what: 'pca', imageIds: [ids[1]] });
    const tp = tifffile(pca.paths[0]);
    expect([tp.xres, tp.yres, tp.unit, tp.physX, tp.physY]).toEqual([1e4 / UM, 1e4 / UM, 3, UM, UM]);
    expect(tp.levels[0]).toEqual({ shape: [GRID, GRID, 3], dtype: 'uint8', xres: 1e4 / UM, unit: 3 });
    // 8 pixels per patch: a two-level pyramid, each level stating its own pixel size (libvips copies level 0's).
    const bigRes = await service.exportAnalysis({ format: 'ome-tiff', what: 'pca', imageIds: [ids[1]], pixelsPerPatch: 8 });
    expect(bigRes.umPerPixel).toBe(UM / 8);
    const big = tifffile(bigRes.paths[0]);
    expect(big.levels).toEqual([
      { shape: [8 * GRID, 8 * GRID, 3], dtype: 'uint8', xres: 8e4 / UM, unit: 3 },
      { shape: [4 * GRID, 4 * GRID, 3], dtype: 'uint8', xres: 4e4 / UM, unit: 3 },
    ]);
    const cl = await service.exportAnalysis({ format: 'ome-tiff', what: 'clusters', imageIds: [ids[1]], k: 4, pixelsPerPatch: 8 });
    expect(basename(cl.paths[0])).toMatch(/\.clusters\.ome\.tif$/);
    const tc = tifffile(cl.paths[0]);
    expect([tc.xres, tc.yres, tc.unit, tc.physX, tc.physY]).toEqual([8e4 / UM, 8e4 / UM, 3, UM / 8, UM / 8]);
    expect(tc.levels).toEqual([
      { shape: [8 * GRID, 8 * GRID], dtype: 'uint8', xres: 8e4 / UM, unit: 3 },
      { shape: [4 * GRID, 4 * GRID], dtype: 'uint8', xres: 4e4 / UM, unit: 3 },
    ]);
    expect(tc.values).toEqual([1, 2, 3, 4]);
    expect(new Set(tc.atQuadrants).size).toBe(4); // one label per texture quadrant
    expect(tc.nearest).toBe(true); // reduced levels pick labels (every other pixel), never average them
  });

  it('an image without calibration: no pHYs, TIFF ResolutionUnit none, no PhysicalSize, OME-Zarr axes without unit', async () => {
    const plain = await analysisProject(await mkdtemp(join(root, 'plain-')), pngs, SPEC);
    try {
      const png = await plain.service.exportAnalysis({ format: 'png', what: 'clusters', imageIds: [plain.ids[0]], k: 4 });
      for (const p of png.paths) expect(phys(await readFile(p))).toBeNull();
      for (const what of ['pca', 'clusters'] as const) {
        const t = tifffile(
          (await plain.service.exportAnalysis({ format: 'ome-tiff', what, imageIds: [plain.ids[0]], k: 4, pixelsPerPatch: 8 })).paths[0],
        );
        expect([t.unit, t.physX, t.physY]).toEqual([1, null, null]);
        expect(t.levels.map((l) => l.unit)).toEqual([1, 1]);
      }
      const z = await plain.service.exportAnalysis({ format: 'zarr', imageIds: [plain.ids[0]] });
      const group = await zarr.open(new FileSystemStore(z.paths[0]), { kind: 'group' });
      const ms = (
        group.attrs as {
          ome: { multiscales: { axes: { unit?: string }[]; datasets: { coordinateTransformations: { scale?: number[] }[] }[] }[] };
        }
      ).ome.multiscales[0];
      expect(ms.axes.map((a) => a.unit)).toEqual([undefined, undefined, undefined]);
      expect(ms.datasets[0].coordinateTransformations[0].scale).toEqual([1, SPEC.stride, SPEC.stride]); // level-0 pixels
    } finally {
      await plain.service.close();
    }
  });

  it('CSV without a query: features and coordinates of every patch, no similarity columns', async () => {
    const fresh = await analysisProject(await mkdtemp(join(root, 'fresh-')), paths, SPEC);
    try {
      const res = await fresh.service.exportAnalysis({ format: 'csv' });
      const lines = (await readFile(res.paths[0], 'utf8')).trimEnd().split('\r\n');
      expect(lines[0]).toBe(['image', 'x', 'y', 'col', 'row', ...Array.from({ length: SPEC.dim }, (_, i) => `f${i}`)].join(','));
      expect(lines).toHaveLength(1 + 2 * GRID * GRID);
      const row = lines[1 + GRID * 3 + 5].split(','); // image 0, cell (5, 3)
      expect(row.slice(0, 5)).toEqual([basename(paths[0]), String(5.5 * SPEC.stride), String(3.5 * SPEC.stride), '5', '3']);
      expect(row).toHaveLength(5 + SPEC.dim);
      await expect(fresh.service.exportAnalysis({ format: 'csv', what: 'search' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    } finally {
      await fresh.service.close();
    }
  });

  it('Export for QuPath: a GeoJSON per image and open-in-qupath.txt pairing each image file with it', async () => {
    const res = await service.exportAnalysis({ format: 'qupath', k: 4 });
    expect(res.paths.map((p) => basename(p))).toEqual([
      ...ids.map((id) => expect.stringMatching(new RegExp(`-${id}\\.clusters\\.geojson$`))),
      'open-in-qupath.txt',
    ]);
    const guide = await readFile(res.paths[2], 'utf8');
    for (const [i, p] of paths.entries()) expect(guide).toContain(`${p}\t${basename(res.paths[i])}`);
    expect(res.notice).toMatch(/File › Open… .*File › Import objects from file…/);
    const fc = JSON.parse(await readFile(res.paths[0], 'utf8')) as { features: { properties: { classification: { name: string } } }[] };
    expect(fc.features.map((f) => f.properties.classification.name).sort()).toEqual(['cluster 0', 'cluster 1', 'cluster 2', 'cluster 3']);
  });
});

describe('exports of an image with background (cells without features)', () => {
  // 128 × 128 patches, features only where gx ≤ 32: the 2 × 2 blocks of level 1 at x = 16 hold one
  // tissue column (32) and one background column (33).
  const BG: MosaicSpec = { side: 2048, stride: 16, dim: 4, tissue: (gx) => gx <= 32 };
  const G = BG.side / BG.stride;

  it('CSV lists only cells with features; OME-Zarr level 1 averages them only; cluster labels are 0 on background', async () => {
    const bg = await analysisProject(await mkdtemp(join(root, 'bg-')), await writeMosaics(join(root, 'bg-png'), 1, BG), BG);
    try {
      const csv = await bg.service.exportAnalysis({ format: 'csv' });
      const lines = (await readFile(csv.paths[0], 'utf8')).trimEnd().split('\r\n');
      expect(lines).toHaveLength(1 + 33 * G);
      expect(Math.max(...lines.slice(1).map((l) => Number(l.split(',')[3])))).toBe(32);
      const z = await bg.service.exportAnalysis({ format: 'zarr' });
      const group = await zarr.open(new FileSystemStore(z.paths[0]), { kind: 'group' });
      const l0 = await zarr.open(group.resolve('0'), { kind: 'array' });
      const l1 = await zarr.open(group.resolve('1'), { kind: 'array' });
      expect(l1.shape).toEqual([BG.dim, G / 2, G / 2]);
      // Block (x 16, y 5) = cells (32..33, 10..11): the mean of the two tissue cells (32, 10) and (32, 11).
      const a = (await zarr.get(l0, [null, 10, 32])).data as Float32Array;
      const b = (await zarr.get(l0, [null, 11, 32])).data as Float32Array;
      const m = (await zarr.get(l1, [null, 5, 16])).data as Float32Array;
      for (let c = 0; c < BG.dim; c++) expect(m[c]).toBeCloseTo((a[c] + b[c]) / 2, 5);
      const png = await bg.service.exportAnalysis({ format: 'png', what: 'clusters', k: 2 });
      const { data } = await sharp(png.paths[0]).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      for (let gy = 0; gy < G; gy += 7) {
        expect(data[gy * G + 32]).toBeGreaterThan(0);
        expect(data[gy * G + 33]).toBe(0); // background: label 0
      }
    } finally {
      await bg.service.close();
    }
  });
});
