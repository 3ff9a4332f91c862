// Patch features as CSV (RFC 4180), for spreadsheets and data-frame tools: one row per patch with
// features, header image,x,y,col,row,f0…f{dim-1}; x, y = level-0 pixel of the patch centre, col, row =
// its grid cell. Written row block by row block through a file handle, then renamed into place, so a
// slide's grid never has to sit in memory as text.
import type { FileHandle } from 'node:fs/promises';
import { writeHandleAtomic } from '../../io/atomic.js';
import { csvField } from './csv.js';

export interface FeatureCsvImage {
  name: string;
  gridWidth: number;
  gridHeight: number;
  dim: number;
  stride: number;
  origin: { x: number; y: number };
  /** Grid cells (y · gridWidth + x) that have features. */
  positions: Uint32Array;
  /** Rows [y, y + h) of the grid, float32 (h, gridWidth, dim). */
  readRows(y: number, h: number): Promise<Float32Array>;
}

export const featureCsvHeader = (dim: number): string =>
  ['image', 'x', 'y', 'col', 'row', ...Array.from({ length: dim }, (_, i) => `f${i}`)].join(',');

/** Values with 6 significant digits, trailing zeros dropped. */
const num = (v: number): string => String(Number(v.toPrecision(6)));

async function writeImage(fh: FileHandle, g: FeatureCsvImage): Promise<number> {
  const has = new Uint8Array(g.gridWidth * g.gridHeight);
  for (const p of g.positions) has[p] = 1;
  const name = csvField(g.name);
  const block = Math.max(1, Math.floor(65536 / Math.max(1, g.gridWidth)));
  let rows = 0;
  for (let y0 = 0; y0 < g.gridHeight; y0 += block) {
    const h = Math.min(block, g.gridHeight - y0);
    const data = await g.readRows(y0, h); // (h, gridWidth, dim)
    const lines: string[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < g.gridWidth; x++) {
        if (!has[(y0 + y) * g.gridWidth + x]) continue;
        const o = (y * g.gridWidth + x) * g.dim;
        const f: string[] = new Array<string>(g.dim);
        for (let c = 0; c < g.dim; c++) f[c] = num(data[o + c]);
        lines.push(`${name},${g.origin.x + (x + 0.5) * g.stride},${g.origin.y + (y0 + y + 0.5) * g.stride},${x},${y0 + y},${f.join(',')}`);
      }
    }
    if (lines.length) await fh.write(lines.join('\r\n') + '\r\n');
    rows += lines.length;
  }
  return rows;
}

/** Write the features of `images` (all of one dim) to one CSV at `path`; returns the number of rows. */
export async function writeFeaturesCsv(path: string, images: readonly FeatureCsvImage[], dim: number): Promise<number> {
  let rows = 0;
  await writeHandleAtomic(path, async (fh) => {
    await fh.write(featureCsvHeader(dim) + '\r\n');
    for (const g of images) rows += await writeImage(fh, g);
  });
  return rows;
}
