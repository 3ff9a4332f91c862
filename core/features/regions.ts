// Connected regions of one label on a label grid (4-connectivity, iterative flood fill), and the cluster
// colour palette shared by every image.

export interface Region {
  label: number;
  /** Cells in the region. */
  area: number;
  /** Bounding box in grid cells, and the cell nearest the region's centroid that lies in it. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  cx: number;
  cy: number;
}

/** Regions of every label (or only `only`) on a (h, w) label grid, largest first; labels < 0 are ignored. */
export function regions(labels: Int32Array, w: number, h: number, only?: number): Region[] {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const out: Region[] = [];
  for (let start = 0; start < w * h; start++) {
    const lab = labels[start];
    if (seen[start] || lab < 0 || (only !== undefined && lab !== only)) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let area = 0;
    let sx = 0;
    let sy = 0;
    let x0 = w;
    let y0 = h;
    let x1 = -1;
    let y1 = -1;
    const cells: number[] = [];
    while (top > 0) {
      const i = stack[--top];
      const x = i % w;
      const y = (i - x) / w;
      area++;
      sx += x;
      sy += y;
      cells.push(i);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const nb = [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1];
      for (const j of nb) {
        if (j >= 0 && !seen[j] && labels[j] === lab) {
          seen[j] = 1;
          stack[top++] = j;
        }
      }
    }
    // The member cell nearest the centroid (the centroid of a C shape lies outside it).
    const mx = sx / area;
    const my = sy / area;
    let best = cells[0];
    let bd = Infinity;
    for (const i of cells) {
      const dd = ((i % w) - mx) ** 2 + (Math.floor(i / w) - my) ** 2;
      if (dd < bd) {
        bd = dd;
        best = i;
      }
    }
    out.push({ label: lab, area, x0, y0, x1, y1, cx: best % w, cy: Math.floor(best / w) });
  }
  return out.sort((a, b) => b.area - a.area);
}

/** Colour of cluster `i`: evenly spaced hues by the golden angle, fixed per index so every image agrees. */
export function clusterColor(i: number): [number, number, number] {
  const hue = (i * 137.508) % 360;
  const s = 0.65;
  const l = i % 2 ? 0.45 : 0.6;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = hue / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [Math.round(255 * (r + m)), Math.round(255 * (g + m)), Math.round(255 * (b + m))];
}
