// Exports of a collection's analyses to files other tools open:
//   features → npy (float16 (h, w, dim)), safetensors ("features" F16 (h, w, dim)), OME-Zarr 0.5
//              (float32 (c, y, x) with a 2× mean pyramid, scale/translation aligning it to the image);
//   pca / clusters → PNG (one pixel per patch, RGBA), pyramidal OME-TIFF (one RGB pixel per patch, µm per
//              pixel = stride · mpp of the image when it has one); clusters / similarity → GeoJSON polygons (QuPath);
//   search → CSV of the last similarity query's matches.
// Every file is written atomically (temp + rename) into one folder.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { AnalysisExportFormat, AnalysisExportRequest, AnalysisExportResult, AnalysisMatch } from '../common/api.js';
import { DEFAULT_CLUSTER_K } from '../common/clusters.js';
import { DinoscopeError } from '../common/errors.js';
import { bytesOf, writeFileAtomic } from '../features/atomic.js';
import { resultsCsv } from '../features/export/csv.js';
import { featureCollection, maskFeature, type GeoJsonFeature } from '../features/export/geojson.js';
import { npyBytes } from '../features/export/npy.js';
import { writeMapOmeTiff } from '../features/export/ome-tiff.js';
import { clusterColor } from '../features/regions.js';
import { writeSafetensors } from '../model/weights/safetensors.js';
import type { Project } from '../project/project.js';
import { clusterRgba } from '../tiles/overlays/clusters.js';
import type { FeatureCollection, GridImage } from './collection.js';
import { pcaImageRgba, type PcaFit } from './pca-maps.js';

export interface ExportContext {
  project: Project;
  fc: FeatureCollection;
  pca(threshold?: number): Promise<PcaFit>;
  labels(k: number, imageId: string): Promise<Int32Array>;
  clusterK: number | null;
  last: { imageId: string; scores: Float32Array; lo: number; hi: number; matches: AnalysisMatch[] } | null;
}

const FORMATS: readonly AnalysisExportFormat[] = ['npy', 'safetensors', 'zarr', 'png', 'ome-tiff', 'geojson', 'csv'];
const WHAT: Record<AnalysisExportFormat, readonly string[]> = {
  npy: ['features', 'pca', 'clusters'],
  safetensors: ['features'],
  zarr: ['features'],
  png: ['pca', 'clusters'],
  'ome-tiff': ['pca', 'clusters'],
  geojson: ['clusters', 'similarity'],
  csv: ['search'],
};
const DEFAULT_WHAT: Record<AnalysisExportFormat, string> = { npy: 'features', safetensors: 'features', zarr: 'features', png: 'pca', 'ome-tiff': 'pca', geojson: 'clusters', csv: 'search' };
/** Grids larger than this (values) are refused for in-memory feature exports. */
const MAX_VALUES = 400_000_000;

/** (n, 4) RGBA → (n, 3) RGB. */
function rgbOf(rgba: Uint8Array): Uint8Array {
  const n = rgba.length >> 2;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i];
    rgb[o + 1] = rgba[i + 1];
    rgb[o + 2] = rgba[i + 2];
  }
  return rgb;
}

/** A file-name-safe stem for an image: its name without extension, plus its id. */
const stem = (g: GridImage): string => `${g.name.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]/g, '_')}-${g.id}`;

export async function exportAnalysis(ctx: ExportContext, req: AnalysisExportRequest): Promise<AnalysisExportResult> {
  if (!req || typeof req !== 'object' || !FORMATS.includes(req.format)) throw new DinoscopeError('BAD_INPUT', `The export format must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(req?.format)}).`);
  const format = req.format;
  const what = req.what ?? DEFAULT_WHAT[format];
  if (!WHAT[format].includes(what)) throw new DinoscopeError('BAD_INPUT', `${format} exports ${WHAT[format].join(' or ')}, not ${what}.`);
  const images = (req.imageIds ?? [...ctx.fc.images.keys()]).map((id) => ctx.fc.image(id));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = req.dir !== undefined ? resolve(req.dir) : join(ctx.project.dir, 'exports', `${what}-${format}-${stamp}`);
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  const put = async (name: string, data: string | Uint8Array): Promise<void> => {
    const p = join(dir, name);
    await writeFileAtomic(p, data);
    paths.push(p);
  };
  const k = req.k ?? ctx.clusterK ?? DEFAULT_CLUSTER_K;
  /** A map (h, w, 4) RGBA as a pyramidal OME-TIFF aligned to its image (alpha dropped: OME-TIFF maps are RGB). */
  const putOmeTiff = async (name: string, g: GridImage, rgba: Uint8Array, title: string): Promise<void> => {
    const p = join(dir, name);
    await writeMapOmeTiff(p, { rgb: rgbOf(rgba), width: g.gridWidth, height: g.gridHeight }, { stride: g.stride, origin: g.origin, mpp: g.mpp }, { name: title });
    paths.push(p);
  };

  if (what === 'search') {
    const last = ctx.last;
    if (!last) throw new DinoscopeError('BAD_INPUT', 'No search to export: run a similarity query first.');
    await put('search.csv', resultsCsv(last.matches.map((m, i) => ({ image: m.name, x: m.x, y: m.y, score: m.score, rank: i + 1 }))));
  } else if (what === 'similarity') {
    const last = ctx.last;
    if (!last) throw new DinoscopeError('BAD_INPUT', 'No similarity map to export: run a similarity query first.');
    const g = ctx.fc.image(last.imageId);
    const t = req.threshold ?? (last.lo + last.hi) / 2;
    const mask = new Uint8Array(last.scores.length); // (gh, gw)
    for (let i = 0; i < mask.length; i++) mask[i] = last.scores[i] >= t ? 1 : 0;
    const f = maskFeature(mask, g.gridWidth, g.gridHeight, { stride: g.stride, origin: g.origin }, `similarity ≥ ${t.toFixed(3)}`, [255, 140, 0]);
    await put(`${stem(g)}.similarity.geojson`, JSON.stringify(featureCollection(f ? [f] : [])));
  }
  for (const g of what === 'search' || what === 'similarity' ? [] : images) {
    if (what === 'features') {
      const { gridWidth: w, gridHeight: h } = g;
      const d = ctx.fc.index.dim;
      if (w * h * d > MAX_VALUES) throw new DinoscopeError('TOO_LARGE', `${g.name}: ${w} × ${h} × ${d} features are too many to export in one piece.`);
      const grid = await (await ctx.fc.store(g.id)).readRect(0, 0, w, h); // (h, w, dim)
      if (format === 'npy') await put(`${stem(g)}.features.npy`, npyBytes(grid, [h, w, d], 'float16'));
      else if (format === 'safetensors') {
        const p = join(dir, `${stem(g)}.features.safetensors`);
        await writeSafetensors(p, { features: { shape: [h, w, d], data: grid, dtype: 'F16' } }, { imageId: g.id, image: g.name, stride: String(g.stride), originX: String(g.origin.x), originY: String(g.origin.y), layout: 'h,w,dim' });
        paths.push(p);
      } else paths.push(await writeOmeZarr(join(dir, `${stem(g)}.features.zarr`), g, grid, d));
    } else if (what === 'pca') {
      const rgba = pcaImageRgba(ctx.fc, await ctx.pca(), g.id); // (h, w, 4)
      if (format === 'png') await put(`${stem(g)}.pca.png`, await sharp(rgba, { raw: { width: g.gridWidth, height: g.gridHeight, channels: 4 } }).png().toBuffer());
      else if (format === 'ome-tiff') await putOmeTiff(`${stem(g)}.pca.ome.tif`, g, rgba, `${g.name} PCA`);
      else await put(`${stem(g)}.pca.npy`, npyBytes(rgba, [g.gridHeight, g.gridWidth, 4]));
    } else {
      const labels = await ctx.labels(k, g.id); // (h, w)
      if (format === 'png') await put(`${stem(g)}.clusters.png`, await sharp(clusterRgba(labels), { raw: { width: g.gridWidth, height: g.gridHeight, channels: 4 } }).png().toBuffer());
      else if (format === 'ome-tiff') await putOmeTiff(`${stem(g)}.clusters.ome.tif`, g, clusterRgba(labels), `${g.name} clusters (k = ${k})`);
      else if (format === 'npy') await put(`${stem(g)}.clusters.npy`, npyBytes(labels, [g.gridHeight, g.gridWidth]));
      else {
        const feats: GeoJsonFeature[] = [];
        const mask = new Uint8Array(labels.length);
        for (let c = 0; c < k; c++) {
          for (let i = 0; i < labels.length; i++) mask[i] = labels[i] === c ? 1 : 0;
          const f = maskFeature(mask, g.gridWidth, g.gridHeight, { stride: g.stride, origin: g.origin }, `cluster ${c}`, clusterColor(c));
          if (f) feats.push(f);
        }
        await put(`${stem(g)}.clusters.geojson`, JSON.stringify(featureCollection(feats)));
      }
    }
  }
  return { format, dir, paths };
}

/**
 * An OME-Zarr 0.5 image of a feature grid: Zarr v3 group, arrays "0", "1", … float32 (c, y, x), each level
 * a 2 × 2 mean of the one before, with scale (stride · 2^l) and translation (origin) in level-0 pixels
 * (µm when the store knows its mpp is not needed: pixels keep it aligned to the source image).
 */
async function writeOmeZarr(dir: string, g: GridImage, grid: Float32Array, d: number): Promise<string> {
  const datasets: object[] = [];
  let w = g.gridWidth;
  let h = g.gridHeight;
  let cur = grid; // (h, w, dim)
  for (let l = 0; ; l++) {
    const s = g.stride * 2 ** l;
    datasets.push({ path: String(l), coordinateTransformations: [{ type: 'scale', scale: [1, s, s] }, { type: 'translation', translation: [0, g.origin.y, g.origin.x] }] });
    await writeZarrLevel(join(dir, String(l)), cur, w, h, d);
    if (Math.max(w, h) <= 64) break;
    const nw = Math.ceil(w / 2);
    const nh = Math.ceil(h / 2);
    const next = new Float32Array(nw * nh * d); // (nh, nw, dim): 2 × 2 mean
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        let n = 0;
        const o = (y * nw + x) * d;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const sy = 2 * y + dy;
            const sx = 2 * x + dx;
            if (sy >= h || sx >= w) continue;
            n++;
            const i = (sy * w + sx) * d;
            for (let c = 0; c < d; c++) next[o + c] += cur[i + c];
          }
        }
        for (let c = 0; c < d; c++) next[o + c] /= n;
      }
    }
    cur = next;
    w = nw;
    h = nh;
  }
  const group = {
    zarr_format: 3,
    node_type: 'group',
    attributes: {
      ome: { version: '0.5', multiscales: [{ name: g.name, axes: [{ name: 'c', type: 'channel' }, { name: 'y', type: 'space' }, { name: 'x', type: 'space' }], datasets }] },
      dinoscope: { imageId: g.id, image: g.name, stride: g.stride, origin: g.origin, units: 'level-0 pixels' },
    },
  };
  await writeFileAtomic(join(dir, 'zarr.json'), JSON.stringify(group, null, 1));
  return dir;
}

const ZCHUNK = 64;

async function writeZarrLevel(dir: string, grid: Float32Array, w: number, h: number, d: number): Promise<void> {
  const meta = {
    zarr_format: 3,
    node_type: 'array',
    shape: [d, h, w],
    data_type: 'float32',
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [d, ZCHUNK, ZCHUNK] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    dimension_names: ['c', 'y', 'x'],
  };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'zarr.json'), JSON.stringify(meta, null, 1));
  const plane = ZCHUNK * ZCHUNK;
  for (let cy = 0; cy * ZCHUNK < h; cy++) {
    for (let cx = 0; cx * ZCHUNK < w; cx++) {
      const chunk = new Float32Array(d * plane); // (dim, 64, 64), zero-padded at edges
      for (let y = 0; y < ZCHUNK && cy * ZCHUNK + y < h; y++) {
        for (let x = 0; x < ZCHUNK && cx * ZCHUNK + x < w; x++) {
          const src = ((cy * ZCHUNK + y) * w + cx * ZCHUNK + x) * d; // (h, w, dim) → (dim, 64, 64)
          for (let c = 0; c < d; c++) chunk[c * plane + y * ZCHUNK + x] = grid[src + c];
        }
      }
      const p = join(dir, 'c', '0', String(cy), String(cx));
      await mkdir(join(dir, 'c', '0', String(cy)), { recursive: true });
      await writeFileAtomic(p, bytesOf(chunk));
    }
  }
}
