// Query vectors: one patch, the mean of several (shift-click), or the mean over a rectangle of a grid.
import { DinoscopeError } from '../../common/errors.js';
import { normalize } from './quantize.js';

/** The normalised mean of unit-normalised vectors (each vector weighs the same). */
export function meanQuery(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new DinoscopeError('BAD_INPUT', 'A query needs at least one patch.');
  const d = vectors[0].length;
  const out = new Float32Array(d);
  const tmp = new Float32Array(d);
  for (const v of vectors) {
    if (v.length !== d) throw new DinoscopeError('BAD_INPUT', `Query vectors differ in length (${v.length} vs ${d}).`);
    tmp.set(v);
    normalize(tmp);
    for (let j = 0; j < d; j++) out[j] += tmp[j];
  }
  normalize(out);
  return out;
}

/**
 * The normalised mean feature of a rectangle of a (h, w, d) grid, skipping patches where `mask` is 0
 * (background) when a mask is given. `rect` is in grid cells, clipped to the grid.
 */
export function rectQuery(
  grid: Float32Array,
  gw: number,
  gh: number,
  d: number,
  rect: { x: number; y: number; width: number; height: number },
  mask?: Uint8Array,
): Float32Array {
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(gw, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(gh, Math.ceil(rect.y + rect.height));
  const vs: Float32Array[] = [];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (mask && !mask[y * gw + x]) continue;
      vs.push(grid.subarray((y * gw + x) * d, (y * gw + x + 1) * d)); // (d,) patch vector
    }
  }
  if (vs.length === 0) throw new DinoscopeError('BAD_INPUT', 'The rectangle holds no foreground patch.');
  return meanQuery(vs);
}
