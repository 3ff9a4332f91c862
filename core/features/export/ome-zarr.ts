// Feature maps as OME-Zarr 0.5 (a Zarr v3 group), aligned to the source image: a multiscale pyramid of the
// patch grid, level l+1 the 2 × 2 mean of level l (over tissue cells when a mask is given), every level an
// array (c, y, x) float32 — channel first as OME-Zarr requires — in uncompressed little-endian chunks
// (codec `bytes`), so any Zarr v3 reader (zarrita, zarr-python) opens it.
//
// Alignment: coordinateTransformations map array indices to the source image's physical space, in µm
// when the image has an mpp, else in level-0 pixels (no unit):
//   scale_l = [1, stride·2^l·mpp, stride·2^l·mpp],  translation = [0, origin.y·mpp, origin.x·mpp]
// i.e. array cell (y, x) of level l covers [translation + index·scale, translation + (index+1)·scale) —
// the same corner convention as the feature store (store/FORMAT.md); the source image's own level 0 is
// scale [mpp, mpp], translation 0. The geometry is also in attributes.dinoscope.
//
//   out.zarr/zarr.json          group, attributes.ome.multiscales[0].datasets = levels 0 … L
//   out.zarr/<l>/zarr.json      array float32 [dim, h_l, w_l], chunks [dim, chunk, chunk]
//   out.zarr/<l>/c/0/<cy>/<cx>  one chunk, C order, edge chunks padded with 0
// Memory: level 0 is streamed from the source one chunk row at a time; level 1 (a quarter of the grid)
// and above are held in memory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { bytesOf } from '../bytes.js';
import type { FeatureGridSource, GridGeometry } from './feature-grid.js';

export interface OmeZarrOptions {
  /** Patches per chunk along y and x (default 64). */
  chunk?: number;
  /** Levels beyond level 0: default until the grid fits in one chunk. */
  levels?: number;
  /** (gridHeight, gridWidth), 1 = tissue: pooling averages tissue cells only. */
  mask?: Uint8Array;
  name?: string;
  /** Extra keys for attributes.dinoscope (model id, image id …). */
  attributes?: Record<string, unknown>;
}

export interface OmeZarrResult {
  /** [dim, h, w] of each level. */
  shapes: [number, number, number][];
}

function arrayMeta(shape: [number, number, number], chunk: number): object {
  return {
    zarr_format: 3,
    node_type: 'array',
    shape,
    data_type: 'float32',
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [shape[0], chunk, chunk] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    dimension_names: ['c', 'y', 'x'],
    attributes: {},
  };
}

/** Write the chunks of one row of chunks: `rows` is (rh, w, dim) patch-major for grid rows [cy·chunk, +rh). */
async function writeChunkRow(
  dir: string,
  rows: Float32Array,
  rh: number,
  w: number,
  dim: number,
  chunk: number,
  cy: number,
): Promise<void> {
  const plane = chunk * chunk;
  for (let cx = 0; cx * chunk < w; cx++) {
    const c = new Float32Array(dim * plane); // (dim, chunk, chunk)
    const x0 = cx * chunk;
    const x1 = Math.min(w, x0 + chunk);
    for (let y = 0; y < rh; y++) {
      for (let x = x0; x < x1; x++) {
        const src = (y * w + x) * dim;
        const dst = y * chunk + (x - x0);
        for (let k = 0; k < dim; k++) c[k * plane + dst] = rows[src + k];
      }
    }
    const d = join(dir, 'c', '0', String(cy));
    await mkdir(d, { recursive: true });
    await writeFileAtomic(join(d, String(cx)), bytesOf(c));
  }
}

/** Add (rh, w, dim) rows at grid row y0 of a level into the next level's sums and counts. */
function poolInto(
  rows: Float32Array,
  rh: number,
  w: number,
  dim: number,
  y0: number,
  mask: Uint8Array | null,
  sums: Float32Array,
  counts: Uint16Array,
  w1: number,
): void {
  for (let y = 0; y < rh; y++) {
    const py = (y0 + y) >> 1;
    for (let x = 0; x < w; x++) {
      if (mask && !mask[(y0 + y) * w + x]) continue;
      const p = py * w1 + (x >> 1);
      counts[p]++;
      const src = (y * w + x) * dim;
      const dst = p * dim;
      for (let k = 0; k < dim; k++) sums[dst + k] += rows[src + k];
    }
  }
}

export async function writeFeatureOmeZarr(
  dir: string,
  source: FeatureGridSource,
  geometry: GridGeometry,
  opts: OmeZarrOptions = {},
): Promise<OmeZarrResult> {
  const { dim } = source;
  const chunk = opts.chunk ?? 64;
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new DinoscopeError('BAD_INPUT', `${dir}: chunk size ${chunk} is not a positive integer.`);
  const maxLevels = Math.max(0, Math.ceil(Math.log2(Math.max(source.gridWidth, source.gridHeight) / chunk)));
  const levels = Math.min(opts.levels ?? maxLevels, Math.ceil(Math.log2(Math.max(source.gridWidth, source.gridHeight, 1))));
  await mkdir(dir, { recursive: true });
  const shapes: [number, number, number][] = [];
  let w = source.gridWidth;
  let h = source.gridHeight;
  let mask: Uint8Array | null = opts.mask ?? null;
  // Level l's rows come from `read`: the source for level 0, the pooled array above.
  let read = (y: number, rh: number): Promise<Float32Array> => source.readRect(0, y, w, rh);
  for (let l = 0; l <= levels; l++) {
    shapes.push([dim, h, w]);
    const ldir = join(dir, String(l));
    await mkdir(ldir, { recursive: true });
    await writeFileAtomic(join(ldir, 'zarr.json'), JSON.stringify(arrayMeta([dim, h, w], chunk)));
    const last = l === levels;
    const w1 = Math.ceil(w / 2);
    const h1 = Math.ceil(h / 2);
    const sums = last ? null : new Float32Array(w1 * h1 * dim); // (h1, w1, dim)
    const counts = last ? null : new Uint16Array(w1 * h1);
    for (let cy = 0; cy * chunk < h; cy++) {
      const rh = Math.min(chunk, h - cy * chunk);
      const rows = await read(cy * chunk, rh); // (rh, w, dim)
      await writeChunkRow(ldir, rows, rh, w, dim, chunk, cy);
      if (sums && counts) poolInto(rows, rh, w, dim, cy * chunk, mask, sums, counts, w1);
    }
    if (!sums || !counts) break;
    for (let p = 0; p < counts.length; p++) {
      if (counts[p] === 0) continue;
      const inv = 1 / counts[p];
      for (let k = 0; k < dim; k++) sums[p * dim + k] *= inv;
    }
    const pooled = sums;
    const pw = w1;
    read = (y, rh) => Promise.resolve(pooled.subarray(y * pw * dim, (y + rh) * pw * dim));
    mask = mask ? Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0)) : null;
    w = w1;
    h = h1;
  }
  const unit = geometry.mpp ?? 1;
  const space = geometry.mpp === null ? {} : { unit: 'micrometer' };
  const group = {
    zarr_format: 3,
    node_type: 'group',
    attributes: {
      ome: {
        version: '0.5',
        multiscales: [
          {
            name: opts.name ?? 'features',
            axes: [
              { name: 'c', type: 'channel' },
              { name: 'y', type: 'space', ...space },
              { name: 'x', type: 'space', ...space },
            ],
            datasets: shapes.map((_, l) => ({
              path: String(l),
              coordinateTransformations: [
                { type: 'scale', scale: [1, geometry.stride * 2 ** l * unit, geometry.stride * 2 ** l * unit] },
                { type: 'translation', translation: [0, geometry.origin.y * unit, geometry.origin.x * unit] },
              ],
            })),
            type: 'mean',
            metadata: { description: '2 × 2 mean pooling of the patch grid', method: 'dinoscope writeFeatureOmeZarr' },
          },
        ],
      },
      dinoscope: {
        format: 'dinoscope-feature-map',
        stride: geometry.stride,
        origin: geometry.origin,
        mpp: geometry.mpp,
        dim,
        gridWidth: source.gridWidth,
        gridHeight: source.gridHeight,
        ...opts.attributes,
      },
    },
  };
  await writeFileAtomic(join(dir, 'zarr.json'), JSON.stringify(group, null, 1));
  return { shapes };
}
