// Similarity search over a feature collection: the query vector (one patch, the mean of several
// clicked patches, or the mean over a rectangle), its cosine heatmap over the query image (the exact
// index's tight scan) and the best-matching distinct regions over every image (exact top-N, then
// non-maximum suppression; the query's own patches are left out).
import type { SimilarityRequest } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { Hit } from '../features/index/catalog.js';
import { nms } from '../features/index/nms.js';
import { normalize } from '../features/index/quantize.js';
import { similarityRgba } from '../tiles/overlays/similarity.js';
import type { FeatureCollection, GridImage } from './collection.js';

/** Grid cells of a query: integers on the query image's grid. */
export interface QueryCells {
  image: GridImage;
  cells: { gx: number; gy: number }[];
  /** The rectangle in cells when the query is a rectangle. */
  rect?: { x0: number; y0: number; x1: number; y1: number };
}

const MAX_POINTS = 256;

/** Validates a request (it may come from JSON) and maps it to grid cells of its image. */
export function queryCells(fc: FeatureCollection, req: SimilarityRequest): QueryCells {
  if (!req || typeof req !== 'object' || typeof req.imageId !== 'string')
    throw new DinoscopeError('BAD_INPUT', 'A similarity query needs an imageId.');
  const image = fc.image(req.imageId);
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (req.rect !== undefined) {
    const r = req.rect;
    if (!r || ![r.x, r.y, r.width, r.height].every(finite) || r.width <= 0 || r.height <= 0)
      throw new DinoscopeError('BAD_INPUT', 'The query rectangle needs x, y, width > 0, height > 0 in image pixels.');
    const a = fc.cellAt(image, r.x, r.y);
    const b = fc.cellAt(image, r.x + r.width - 1e-9, r.y + r.height - 1e-9);
    const x0 = Math.max(0, a.gx);
    const y0 = Math.max(0, a.gy);
    const x1 = Math.min(image.gridWidth - 1, b.gx);
    const y1 = Math.min(image.gridHeight - 1, b.gy);
    if (x1 < x0 || y1 < y0) throw new DinoscopeError('BAD_INPUT', `The rectangle lies outside ${image.name}'s feature grid.`);
    const cells: { gx: number; gy: number }[] = [];
    for (let gy = y0; gy <= y1; gy++) for (let gx = x0; gx <= x1; gx++) cells.push({ gx, gy });
    return { image, cells, rect: { x0, y0, x1, y1 } };
  }
  const pts = req.points;
  if (!Array.isArray(pts) || pts.length === 0) throw new DinoscopeError('BAD_INPUT', 'A similarity query needs points [{x, y}] or a rect.');
  if (pts.length > MAX_POINTS) throw new DinoscopeError('BAD_INPUT', `At most ${MAX_POINTS} query points, got ${pts.length}.`);
  const cells = pts.map((p) => {
    if (!p || !finite(p.x) || !finite(p.y)) throw new DinoscopeError('BAD_INPUT', 'Query points need numeric x and y (image pixels).');
    const c = fc.cellAt(image, p.x, p.y);
    if (c.gx < 0 || c.gy < 0 || c.gx >= image.gridWidth || c.gy >= image.gridHeight)
      throw new DinoscopeError('BAD_INPUT', `Point (${Math.round(p.x)}, ${Math.round(p.y)}) is outside ${image.name}'s feature grid.`);
    return c;
  });
  return { image, cells };
}

/** The query's place on its image in level-0 pixels: each distinct cell, or the rectangle of cells. */
export function queryBoxes(q: QueryCells): { x: number; y: number; width: number; height: number }[] {
  const { stride, origin } = q.image;
  if (q.rect) {
    const r = q.rect;
    return [
      { x: origin.x + r.x0 * stride, y: origin.y + r.y0 * stride, width: (r.x1 - r.x0 + 1) * stride, height: (r.y1 - r.y0 + 1) * stride },
    ];
  }
  const seen = new Set<string>();
  return q.cells.flatMap(({ gx, gy }) => {
    const key = `${gx},${gy}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ x: origin.x + gx * stride, y: origin.y + gy * stride, width: stride, height: stride }];
  });
}

/** The normalised mean of the query cells' unit vectors (background cells without features are skipped). */
export async function queryVector(fc: FeatureCollection, q: QueryCells): Promise<{ vector: Float32Array; patches: number }> {
  const d = fc.index.dim;
  const sum = new Float32Array(d);
  const lookup = fc.index.lookup(q.image.id); // grid position → row
  let used = 0;
  const tmp = new Float32Array(d);
  for (const { gx, gy } of q.cells) {
    const r = lookup[gy * q.image.gridWidth + gx];
    if (r < 0) continue;
    fc.index.vector(r, tmp);
    for (let j = 0; j < d; j++) sum[j] += tmp[j];
    used++;
  }
  if (used === 0 && !q.rect && q.cells.length === 1) {
    // A click on a patch left out of the index (background): its stored feature, if it has one.
    const { gx, gy } = q.cells[0];
    const v = await (await fc.store(q.image.id)).readRect(gx, gy, 1, 1); // (1, 1, dim)
    if (v.some((x) => x !== 0)) {
      sum.set(v);
      used = 1;
    }
  }
  if (used === 0) throw new DinoscopeError('BAD_INPUT', `No features under the query on ${q.image.name}: it lies on background.`);
  normalize(sum);
  return { vector: sum, patches: used };
}

/** Scale of a cosine map for colouring: hi = its 99.9th percentile, lo = halfway from its median to hi, so
 * the unrelated half of the image stays clear (histogram, O(n)). */
export function heatScale(scores: Float32Array): { lo: number; hi: number } {
  const bins = 2048;
  const hist = new Uint32Array(bins);
  const half = bins / 2;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s !== s) continue; // NaN: no patch
    let b = (s * half + half) | 0; // floor of ((s + 1) / 2) · bins for s ≥ −1 (one multiply, no Math calls: a 1 M-cell map per click)
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    hist[b]++;
    n++;
  }
  if (n === 0) return { lo: 0, hi: 1 };
  const at = (q: number): number => {
    const target = q * n;
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b];
      if (acc >= target) return ((b + 0.5) / bins) * 2 - 1;
    }
    return 1;
  };
  const median = at(0.5);
  const hi = Math.max(at(0.999), median + 0.02);
  return { lo: (median + hi) / 2, hi };
}

/**
 * The heatmap overlay of a cosine map in two passes: a histogram (heatScale's lo/hi), then the colours
 * (similarityRgba's ramp, same values). Returns (n, 4) RGBA and the scale.
 */
export function heatColours(scores: Float32Array): { lo: number; hi: number; rgba: Uint8Array } {
  const { lo, hi } = heatScale(scores);
  return { lo, hi, rgba: similarityRgba(scores, lo, hi) };
}

/** How many exact candidates bestRegions ranks before NMS. */
export const candidateCount = (fc: FeatureCollection, k: number): number => Math.min(fc.index.size, Math.max(400, 60 * k));

/** Distinct best matches: exact top-N over the collection, the query's own patches (and their NMS
 * neighbourhood) removed, then NMS with `radius` cells. `split` supplies the top-N in two parts computed by
 * the caller: the query image's heatmap (its rows' scores) and the top-N of the other images' rows
 * (searchOthersAsync with candidateCount); the merged candidates equal searchAsync's. */
export async function bestRegions(
  fc: FeatureCollection,
  vector: Float32Array,
  q: QueryCells,
  k: number,
  radius = 3,
  split?: { ownScores: Float32Array; others: Hit[] },
): Promise<Hit[]> {
  const n = candidateCount(fc, k);
  const hits = split
    ? [...split.others, ...fc.index.topOfHeatmap(q.image.id, split.ownScores, n)].sort((a, b) => b.score - a.score).slice(0, n)
    : await fc.index.searchAsync(vector, n); // worker pool; the same hits as search()
  const own = q.image.id;
  const near = (h: Hit): boolean => {
    if (h.image !== own) return false;
    if (q.rect) return h.x >= q.rect.x0 - radius && h.x <= q.rect.x1 + radius && h.y >= q.rect.y0 - radius && h.y <= q.rect.y1 + radius;
    return q.cells.some((c) => Math.max(Math.abs(c.gx - h.x), Math.abs(c.gy - h.y)) <= radius);
  };
  return nms(
    hits.filter((h) => !near(h)),
    radius,
    k,
  );
}
