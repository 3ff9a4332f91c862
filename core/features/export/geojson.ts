// Binary masks on the patch grid → GeoJSON polygons in level-0 pixels, in the layout QuPath imports:
// a FeatureCollection of Features with geometry Polygon or MultiPolygon and properties
// {objectType: "annotation", classification: {name, color: [r, g, b]}}.
// Contours follow cell edges exactly (so polygon area = mask area · stride²): every boundary edge of a
// foreground cell is directed with the cell on its right (y down), edges are chained into rings turning
// right first at a saddle (4-connectivity), outer rings come out with positive shoelace area and holes
// negative; each hole goes to the outer ring that contains it.
// Valid polygons (OGC simple features, what QuPath's JTS checks): a traced ring can pass through a saddle
// vertex twice (a region whose arms touch only diagonally, or a bay of background pinched off at one
// corner); such a ring touches itself and is invalid. Every ring is therefore cut at its repeated vertices
// into simple loops; a pinched-off bay then becomes a hole touching its shell at one point, which is valid.

type Ring = [number, number][];

export interface GeoJsonFeature {
  type: 'Feature';
  geometry: { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] };
  properties: { objectType: 'annotation'; classification: { name: string; color: [number, number, number] }; [k: string]: unknown };
}

export interface GridPlacement {
  /** Level-0 pixels per grid cell, and the level-0 pixel of cell (0, 0)'s corner. */
  stride: number;
  origin: { x: number; y: number };
}

const area2 = (r: Ring): number => {
  let s = 0;
  for (let i = 0; i + 1 < r.length; i++) s += r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1];
  return s;
};

function inside(pt: [number, number], ring: Ring): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** Rings of the mask (grid units, closed, collinear points removed). */
export function traceRings(mask: Uint8Array, w: number, h: number): Ring[] {
  const on = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] !== 0;
  const W = w + 1;
  // Outgoing edges by start vertex: direction codes 0 E, 1 S, 2 W, 3 N.
  const out = new Map<number, number[]>();
  const add = (x: number, y: number, dir: number): void => {
    const k = y * W + x;
    const l = out.get(k);
    if (l) l.push(dir);
    else out.set(k, [dir]);
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!on(x, y)) continue;
      if (!on(x, y - 1)) add(x, y, 0);
      if (!on(x + 1, y)) add(x + 1, y, 1);
      if (!on(x, y + 1)) add(x + 1, y + 1, 2);
      if (!on(x - 1, y)) add(x, y + 1, 3);
    }
  }
  const DX = [1, 0, -1, 0];
  const DY = [0, 1, 0, -1];
  const rings: Ring[] = [];
  for (const [start, dirs] of out) {
    while (dirs.length) {
      let x = start % W;
      let y = Math.floor(start / W);
      let dir = dirs.pop() as number;
      const ring: Ring = [[x, y]];
      while (true) {
        x += DX[dir];
        y += DY[dir];
        const k = y * W + x;
        const next = out.get(k);
        if (!next || next.length === 0) break; // back at the start
        // Prefer a right turn, then straight, then left.
        const pick = [(dir + 1) % 4, dir, (dir + 3) % 4].find((d) => next.includes(d));
        if (pick === undefined) break;
        next.splice(next.indexOf(pick), 1);
        if (pick !== dir) ring.push([x, y]);
        dir = pick;
      }
      if (ring[0][0] !== x || ring[0][1] !== y) ring.push([x, y]);
      ring.push([ring[0][0], ring[0][1]]);
      rings.push(ring);
    }
  }
  return rings;
}

/** A closed ring cut at every vertex it visits twice into closed loops that visit each vertex once. */
export function simpleLoops(ring: Ring): Ring[] {
  const loops: Ring[] = [];
  const path: [number, number][] = [];
  const at = new Map<string, number>(); // vertex → its index in path
  for (let i = 0; i + 1 < ring.length; i++) {
    const v = ring[i];
    const key = `${v[0]},${v[1]}`;
    const j = at.get(key);
    if (j === undefined) {
      at.set(key, path.length);
      path.push(v);
      continue;
    }
    // path[j..] came back to v: that stretch is a loop of its own.
    const loop = path.splice(j + 1);
    for (const p of loop) at.delete(`${p[0]},${p[1]}`);
    loops.push([v, ...loop, [v[0], v[1]]]);
  }
  if (path.length >= 3) loops.push([...path, [path[0][0], path[0][1]]]);
  return loops.filter((l) => l.length >= 4);
}

/** Polygons (outer ring then holes) of the mask, in level-0 pixels. */
export function maskPolygons(mask: Uint8Array, w: number, h: number, place: GridPlacement): Ring[][] {
  const rings = traceRings(mask, w, h).flatMap(simpleLoops);
  const outer = rings.filter((r) => area2(r) > 0);
  const holes = rings.filter((r) => area2(r) < 0);
  const polys: Ring[][] = outer.map((r) => [r]);
  for (const hole of holes) {
    // A point a quarter cell to the right of the hole's first edge lies in a foreground cell bordering the
    // hole (edges keep foreground on their right: (dx, dy) → (−dy, dx) with y down).
    const dx = Math.sign(hole[1][0] - hole[0][0]);
    const dy = Math.sign(hole[1][1] - hole[0][1]);
    const probe: [number, number] = [(hole[0][0] + hole[1][0]) / 2 - 0.25 * dy, (hole[0][1] + hole[1][1]) / 2 + 0.25 * dx];
    let best = -1;
    for (let i = 0; i < outer.length; i++) if (inside(probe, outer[i]) && (best < 0 || area2(outer[i]) < area2(outer[best]))) best = i;
    if (best >= 0) polys[best].push(hole);
  }
  const s = place.stride;
  return polys.map((p) => p.map((r) => r.map(([x, y]) => [place.origin.x + x * s, place.origin.y + y * s] as [number, number])));
}

/** One QuPath annotation Feature for a mask (null when the mask is empty). */
export function maskFeature(
  mask: Uint8Array,
  w: number,
  h: number,
  place: GridPlacement,
  name: string,
  color: [number, number, number],
): GeoJsonFeature | null {
  const polys = maskPolygons(mask, w, h, place);
  if (polys.length === 0) return null;
  const geometry: GeoJsonFeature['geometry'] =
    polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
  return { type: 'Feature', geometry, properties: { objectType: 'annotation', classification: { name, color } } };
}

export function featureCollection(features: readonly GeoJsonFeature[]): { type: 'FeatureCollection'; features: GeoJsonFeature[] } {
  return { type: 'FeatureCollection', features: [...features] };
}

/** Area of a GeoJSON polygon (outer minus holes), for checks. */
export function polygonArea(poly: Ring[]): number {
  return poly.reduce((s, r) => s + area2(r) / 2, 0);
}
