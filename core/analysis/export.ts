// Exports of a collection's analyses to files other tools open:
//   features → npy (float16 (h, w, dim)), safetensors ("features" F16 (h, w, dim)), OME-Zarr 0.5
//              (float32 (c, y, x), 2× mean pyramid, axes in µm with scale = stride · mpp when the image
//              states its mpp), CSV (one row per patch: coordinates and features);
//   pca      → PNG (RGBA) or pyramidal OME-TIFF (RGB), pHYs / resolution tags / PhysicalSize in µm;
//   clusters → label images (0 = background, 1..k) as PNG or OME-TIFF, each with a colour preview PNG;
//              npy labels; GeoJSON polygons (QuPath);
//   similarity → GeoJSON polygon of the last query's map above a threshold; search → CSV of its matches;
//   qupath   → GeoJSON per image plus open-in-qupath.txt pairing each image file with its GeoJSON.
// Every file is written atomically (temp + rename) into one folder.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AnalysisExportFormat, AnalysisExportRequest, AnalysisExportResult, AnalysisMatch } from '../common/api.js';
import { DEFAULT_CLUSTER_K } from '../common/clusters.js';
import { DinoscopeError } from '../common/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { resultsCsv } from '../features/export/csv.js';
import { storeSource } from '../features/export/feature-grid.js';
import { writeFeaturesCsv } from '../features/export/features-csv.js';
import { featureCollection, maskFeature, type GeoJsonFeature } from '../features/export/geojson.js';
import { clusterLabelImage, labelPng, rgbaPng } from '../features/export/label-map.js';
import { npyBytes } from '../features/export/npy.js';
import { writeFeatureOmeZarr } from '../features/export/ome-zarr.js';
import { writeLabelOmeTiff, writeMapOmeTiff } from '../features/export/ome-tiff.js';
import { qupathGuide, qupathSteps, type QupathPair } from '../features/export/qupath.js';
import { clusterColor } from '../features/regions.js';
import { writeSafetensors } from '../model/weights/safetensors.js';
import type { Project } from '../project/project.js';
import { clusterRgba } from '../tiles/overlays/clusters.js';
import type { FeatureCollection, GridImage } from './collection.js';
import { pcaImageRgba, type PcaFit } from './pca-maps.js';

export interface ExportContext {
  project: Project;
  fc: FeatureCollection;
  pca(threshold?: number | null): Promise<PcaFit>;
  labels(k: number, imageId: string): Promise<Int32Array>;
  clusterK: number | null;
  last: { imageId: string; scores: Float32Array; lo: number; hi: number; matches: AnalysisMatch[] } | null;
}

type What = NonNullable<AnalysisExportRequest['what']>;
const FORMATS: readonly AnalysisExportFormat[] = ['npy', 'safetensors', 'zarr', 'png', 'ome-tiff', 'geojson', 'csv', 'qupath'];
/** What each format can export, the default first. */
export const EXPORT_WHAT: Record<AnalysisExportFormat, readonly What[]> = {
  npy: ['features', 'pca', 'clusters'],
  safetensors: ['features'],
  zarr: ['features'],
  png: ['pca', 'clusters'],
  'ome-tiff': ['pca', 'clusters'],
  geojson: ['clusters', 'similarity'],
  csv: ['search', 'features'],
  qupath: ['clusters', 'similarity'],
};
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
/** µm per patch side, or null when the image states no mpp. */
const umPerPatch = (g: GridImage): number | null => (g.mpp === null ? null : g.stride * g.mpp);

/** Grid cells (y · gridWidth + x) of an image that have features (its rows in the index; vectors not copied). */
function featureCells(fc: FeatureCollection, g: GridImage): Uint32Array {
  const im = fc.index.image(g.id);
  if (!im) return new Uint32Array(0);
  const out = new Uint32Array(im.ranges.reduce((s, [, c]) => s + c, 0));
  let i = 0;
  for (const [start, count] of im.ranges) for (let r = start; r < start + count; r++) out[i++] = fc.index.positionOf[r];
  return out;
}

/** The thresholded similarity map of the last query as one QuPath annotation (null when empty). */
function similarityFeature(ctx: ExportContext, threshold: number | undefined): { g: GridImage; feature: GeoJsonFeature | null } {
  const last = ctx.last;
  if (!last) throw new DinoscopeError('BAD_INPUT', 'No similarity map to export: click a patch (or run dinoscope search) first.');
  const g = ctx.fc.image(last.imageId);
  const t = threshold ?? (last.lo + last.hi) / 2;
  const mask = Uint8Array.from(last.scores, (s) => (s >= t ? 1 : 0)); // (gh, gw)
  return {
    g,
    feature: maskFeature(
      mask,
      g.gridWidth,
      g.gridHeight,
      { stride: g.stride, origin: g.origin },
      `similarity ≥ ${t.toFixed(3)}`,
      [255, 140, 0],
    ),
  };
}

/** One annotation per cluster present on the image, named "cluster c" as in the app's legend. */
async function clusterFeatures(ctx: ExportContext, k: number, g: GridImage): Promise<GeoJsonFeature[]> {
  const labels = await ctx.labels(k, g.id); // (h, w)
  const feats: GeoJsonFeature[] = [];
  const mask = new Uint8Array(labels.length);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < labels.length; i++) mask[i] = labels[i] === c ? 1 : 0;
    const f = maskFeature(mask, g.gridWidth, g.gridHeight, { stride: g.stride, origin: g.origin }, `cluster ${c}`, clusterColor(c));
    if (f) feats.push(f);
  }
  return feats;
}

export async function exportAnalysis(ctx: ExportContext, req: AnalysisExportRequest): Promise<AnalysisExportResult> {
  if (!req || typeof req !== 'object' || !FORMATS.includes(req.format))
    throw new DinoscopeError('BAD_INPUT', `The export format must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(req?.format)}).`);
  const format = req.format;
  const what: What = req.what ?? (format === 'csv' && !ctx.last ? 'features' : EXPORT_WHAT[format][0]);
  if (!EXPORT_WHAT[format].includes(what))
    throw new DinoscopeError('BAD_INPUT', `${format} exports ${EXPORT_WHAT[format].join(' or ')}, not ${what}.`);
  const ppp = req.pixelsPerPatch ?? 1;
  if (!Number.isInteger(ppp) || ppp < 1 || ppp > 64)
    throw new DinoscopeError('BAD_INPUT', `pixelsPerPatch must be an integer from 1 to 64, got ${String(req.pixelsPerPatch)}.`);
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
  const geometry = (g: GridImage): { stride: number; origin: { x: number; y: number }; mpp: number | null } => ({
    stride: g.stride,
    origin: g.origin,
    mpp: g.mpp,
  });

  if (what === 'search') {
    const last = ctx.last;
    if (!last)
      throw new DinoscopeError(
        'BAD_INPUT',
        'No search to export: click a patch (or run dinoscope search) first, or export features as CSV.',
      );
    await put('search.csv', resultsCsv(last.matches.map((m, i) => ({ image: m.name, x: m.x, y: m.y, score: m.score, rank: i + 1 }))));
    return { format, dir, paths };
  }
  if (format === 'csv') {
    const p = join(dir, images.length === 1 ? `${stem(images[0])}.features.csv` : 'features.csv');
    await writeFeaturesCsv(
      p,
      await Promise.all(
        images.map(async (g) => {
          const store = await ctx.fc.store(g.id);
          return {
            ...g,
            dim: ctx.fc.index.dim,
            positions: featureCells(ctx.fc, g),
            readRows: (y: number, h: number) => store.readRect(0, y, g.gridWidth, h),
          };
        }),
      ),
      ctx.fc.index.dim,
    );
    paths.push(p);
    return { format, dir, paths };
  }
  if (format === 'qupath') {
    const pairs: QupathPair[] = [];
    const targets =
      what === 'similarity'
        ? [similarityFeature(ctx, req.threshold)]
        : await Promise.all(images.map(async (g) => ({ g, features: await clusterFeatures(ctx, k, g) })));
    for (const t of targets) {
      const feats = 'feature' in t ? (t.feature ? [t.feature] : []) : t.features;
      const name = `${stem(t.g)}.${what}.geojson`;
      await put(name, JSON.stringify(featureCollection(feats)));
      pairs.push({ image: ctx.project.requireImage(t.g.id).path, geojson: name });
    }
    const kind = what === 'similarity' ? 'similarity' : 'clusters';
    await put('open-in-qupath.txt', qupathGuide(dir, pairs, kind));
    return { format, dir, paths, notice: qupathSteps(dir, pairs, kind) };
  }
  if (what === 'similarity') {
    const { g, feature } = similarityFeature(ctx, req.threshold);
    await put(`${stem(g)}.similarity.geojson`, JSON.stringify(featureCollection(feature ? [feature] : [])));
    return { format, dir, paths };
  }
  const maps = (format === 'png' || format === 'ome-tiff') && images.length > 0;
  for (const g of images) {
    const um = umPerPatch(g);
    if (what === 'features') {
      const { gridWidth: w, gridHeight: h } = g;
      const d = ctx.fc.index.dim;
      const store = await ctx.fc.store(g.id);
      if (format === 'zarr') {
        const p = join(dir, `${stem(g)}.features.zarr`);
        // Coarser levels average the cells with features only (background cells hold zeros).
        const mask = new Uint8Array(g.gridWidth * g.gridHeight);
        for (const c of featureCells(ctx.fc, g)) mask[c] = 1;
        await writeFeatureOmeZarr(p, storeSource(store), geometry(g), { name: g.name, mask, attributes: { imageId: g.id, image: g.name } });
        paths.push(p);
        continue;
      }
      if (w * h * d > MAX_VALUES)
        throw new DinoscopeError(
          'TOO_LARGE',
          `${g.name}: ${w} × ${h} × ${d} features are too many to export in one piece; export it as OME-Zarr, which is written piece by piece.`,
        );
      const grid = await store.readRect(0, 0, w, h); // (h, w, dim)
      if (format === 'npy') await put(`${stem(g)}.features.npy`, npyBytes(grid, [h, w, d], 'float16'));
      else {
        const p = join(dir, `${stem(g)}.features.safetensors`);
        await writeSafetensors(
          p,
          { features: { shape: [h, w, d], data: grid, dtype: 'F16' } },
          {
            imageId: g.id,
            image: g.name,
            stride: String(g.stride),
            originX: String(g.origin.x),
            originY: String(g.origin.y),
            mpp: String(g.mpp ?? ''),
            layout: 'h,w,dim',
          },
        );
        paths.push(p);
      }
    } else if (what === 'pca') {
      const rgba = await pcaImageRgba(ctx.fc, await ctx.pca(req.pcaThreshold), g.id); // (h, w, 4)
      if (format === 'png') await put(`${stem(g)}.pca.png`, await rgbaPng(rgba, g.gridWidth, g.gridHeight, ppp, um));
      else if (format === 'ome-tiff') {
        const p = join(dir, `${stem(g)}.pca.ome.tif`);
        await writeMapOmeTiff(p, { rgb: rgbOf(rgba), width: g.gridWidth, height: g.gridHeight }, geometry(g), {
          name: `${g.name} PCA`,
          pixelsPerPatch: ppp,
        });
        paths.push(p);
      } else await put(`${stem(g)}.pca.npy`, npyBytes(rgba, [g.gridHeight, g.gridWidth, 4]));
    } else if (format === 'geojson') {
      await put(`${stem(g)}.clusters.geojson`, JSON.stringify(featureCollection(await clusterFeatures(ctx, k, g))));
    } else {
      const raw = await ctx.labels(k, g.id); // (h, w), < 0 = background
      const labels = clusterLabelImage(raw);
      if (format === 'npy') await put(`${stem(g)}.clusters.npy`, npyBytes(labels, [g.gridHeight, g.gridWidth]));
      else {
        if (format === 'png') await put(`${stem(g)}.clusters.png`, await labelPng(labels, g.gridWidth, g.gridHeight, ppp, um));
        else {
          const p = join(dir, `${stem(g)}.clusters.ome.tif`);
          await writeLabelOmeTiff(p, labels, g.gridWidth, g.gridHeight, geometry(g), {
            name: `${g.name} clusters (k = ${k}; pixel value 0 = background, c + 1 = cluster c)`,
            pixelsPerPatch: ppp,
          });
          paths.push(p);
        }
        await put(`${stem(g)}.clusters.preview.png`, await rgbaPng(clusterRgba(raw), g.gridWidth, g.gridHeight, ppp, um));
      }
    }
  }
  if (maps) {
    const um = umPerPatch(images[0]);
    return { format, dir, paths, umPerPixel: um === null ? null : um / ppp };
  }
  return { format, dir, paths };
}
