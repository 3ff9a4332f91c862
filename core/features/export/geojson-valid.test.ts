// Cluster polygons are valid simple-feature polygons (what QuPath's JTS requires), checked by a validity
// test written here independently of the tracer: closed rings of at least 4 points; no ring touches or
// crosses itself (no repeated vertex, no two non-adjacent edges meeting); shells counter-clockwise in the
// numeric (x, y) frame (positive shoelace area) and holes clockwise; every hole inside its shell, holes
// apart from each other; and the polygons cover exactly the mask cells.
import { describe, expect, it } from 'vitest';
import { clusterColor } from '../regions.js';
import { maskFeature, maskPolygons } from './geojson.js';

type Pt = [number, number];
type Ring = Pt[];

const shoelace = (r: Ring): number => r.slice(0, -1).reduce((s, p, i) => s + p[0] * r[i + 1][1] - r[i + 1][0] * p[1], 0) / 2;
const cross = (o: Pt, a: Pt, b: Pt): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
const onSeg = (p: Pt, a: Pt, b: Pt): boolean =>
  cross(a, b, p) === 0 &&
  Math.min(a[0], b[0]) <= p[0] &&
  p[0] <= Math.max(a[0], b[0]) &&
  Math.min(a[1], b[1]) <= p[1] &&
  p[1] <= Math.max(a[1], b[1]);
/** Closed segments ab and cd share at least one point. */
function meet(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return onSeg(a, c, d) || onSeg(b, c, d) || onSeg(c, a, b) || onSeg(d, a, b);
}
/** Point strictly inside (1), on the boundary (0) or outside (-1) a ring. */
function where(p: Pt, r: Ring): number {
  for (let i = 0; i + 1 < r.length; i++) if (onSeg(p, r[i], r[i + 1])) return 0;
  let c = false;
  for (let i = 0; i + 1 < r.length; i++) {
    const [a, b] = [r[i], r[i + 1]];
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) c = !c;
  }
  return c ? 1 : -1;
}

/** Problems of one polygon (empty when valid). */
function problems(poly: Ring[]): string[] {
  const out: string[] = [];
  poly.forEach((r, ri) => {
    if (r.length < 4) out.push(`ring ${ri}: ${r.length} points`);
    if (r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1]) out.push(`ring ${ri}: not closed`);
    const seen = new Set(r.slice(0, -1).map((p) => p.join(',')));
    if (seen.size !== r.length - 1) out.push(`ring ${ri}: repeats a vertex (touches itself)`);
    const n = r.length - 1;
    for (let i = 0; i < n; i++) {
      for (let j = i + 2; j < n; j++) {
        if (i === 0 && j === n - 1) continue; // adjacent through the closing point
        if (meet(r[i], r[i + 1], r[j], r[j + 1])) out.push(`ring ${ri}: edges ${i} and ${j} meet`);
      }
    }
    const a = shoelace(r);
    if (ri === 0 ? a <= 0 : a >= 0) out.push(`ring ${ri}: wrong orientation (area ${a})`);
  });
  const [shell, ...holes] = poly;
  holes.forEach((h, hi) => {
    if (h.some((p) => where(p, shell) < 0)) out.push(`hole ${hi}: outside its shell`);
    holes.forEach((o, oi) => {
      if (oi !== hi && h.some((p) => where(p, o) > 0)) out.push(`holes ${hi} and ${oi} overlap`);
    });
    // Holes and shell may touch at points, never share an edge (that would cut the polygon apart).
    for (let i = 0; i + 1 < h.length; i++) {
      const mid: Pt = [(h[i][0] + h[i + 1][0]) / 2, (h[i][1] + h[i + 1][1]) / 2];
      if (where(mid, shell) <= 0) out.push(`hole ${hi}: edge ${i} on or outside the shell`);
    }
  });
  return out;
}

/** Whether cell (x, y)'s centre lies in the polygons (inside a shell and in none of its holes). */
const covered = (polys: Ring[][], x: number, y: number): boolean =>
  polys.some(([s, ...hs]) => where([x + 0.5, y + 0.5], s) > 0 && hs.every((h) => where([x + 0.5, y + 0.5], h) < 0));

function check(mask: Uint8Array, w: number, h: number): void {
  const polys = maskPolygons(mask, w, h, { stride: 1, origin: { x: 0, y: 0 } });
  for (const p of polys) expect(problems(p)).toEqual([]);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(covered(polys, x, y)).toBe(mask[y * w + x] === 1);
}

const fromRows = (rows: string[]): { mask: Uint8Array; w: number; h: number } => {
  const w = rows[0].length;
  return { mask: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), w, h: rows.length };
};

describe('cluster polygons are valid', () => {
  it('a region whose arms touch diagonally: the shell does not touch itself, the pinched bay is a hole', () => {
    // Cells (4, 2) and (3, 3) touch only at a corner, with background on the other diagonal: the ring
    // around this one region passes that saddle twice.
    const { mask, w, h } = fromRows(['......', '.####.', '.#..#.', '.#.#..', '.###..']);
    check(mask, w, h);
    const polys = maskPolygons(mask, w, h, { stride: 1, origin: { x: 0, y: 0 } });
    expect(polys).toHaveLength(1);
    expect(polys[0]).toHaveLength(2); // shell + the bay as a hole touching it at the saddle
  });

  it('holes with islands and diagonal neighbours inside a frame', () => {
    check(
      ...(Object.values(fromRows(['########', '#..#...#', '#...#..#', '#.#....#', '#...##.#', '#.#.##.#', '#......#', '########'])) as [
        Uint8Array,
        number,
        number,
      ]),
    );
  });

  it("random cluster maps (k = 2..6, 18 × 16 grids): every cluster's polygons valid and exact", () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 24; trial++) {
      const w = 18;
      const h = 16;
      const k = 2 + (trial % 5);
      const labels = Int32Array.from({ length: w * h }, () => Math.floor(rand() * k));
      for (let c = 0; c < k; c++) {
        const mask = Uint8Array.from(labels, (l) => (l === c ? 1 : 0));
        check(mask, w, h);
        const f = maskFeature(mask, w, h, { stride: 16, origin: { x: 8, y: 8 } }, `cluster ${c + 1}`, clusterColor(c));
        if (!f) continue;
        const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
        for (const p of polys) expect(problems(p)).toEqual([]);
      }
    }
  });
});
