// From a per-pixel threshold to tissue regions, as a pathologist outlines tissue: Otsu's threshold on the
// thumbnail keeps the densely stained pixels but drops faint tissue — fat (empty cells with thin walls), loose
// stroma, lumens of glands — which then vanishes from search and clusters. Two steps close those gaps:
//   hysteresis  pixels above a lower threshold count when they connect (8-neighbours) to pixels above the upper
//               one (Canny's edge linking): faint tissue next to stained tissue is kept, faint specks on the
//               glass are not;
//   closing     gaps up to a few pixels in a wall of tissue are bridged;
//   hole filling small background pockets not connected to the thumbnail's border are enclosed by tissue (the
//               cell interiors of fat, lumens) and become tissue; large enclosed glass (a ring of tissue
//               round an empty middle) stays background.

/** Gaps in tissue walls up to 2·radius pixels wide are closed before the holes are filled (the thin walls of
 * fat cells break up at thumbnail resolution, which would connect every cell interior to the glass). */
export const CLOSING_RADIUS = 2;

/** Morphological closing (dilation then erosion) with a (2r+1)² square, in place; separable max/min filters.
 * Pixels beyond the border count as background for the dilation and as tissue for the erosion, so the
 * closing never eats into tissue that touches the border. */
function close(mask: Uint8Array, width: number, height: number, r: number): void {
  const tmp = new Uint8Array(mask.length);
  const pass = (src: Uint8Array, dst: Uint8Array, horizontal: boolean, dilate: boolean): void => {
    const [len, lines] = horizontal ? [width, height] : [height, width];
    const at = (line: number, k: number): number => (horizontal ? line * width + k : k * width + line);
    for (let line = 0; line < lines; line++)
      for (let k = 0; k < len; k++) {
        let v = dilate ? 0 : 1;
        for (let d = -r; d <= r; d++) {
          const kk = k + d;
          if (kk < 0 || kk >= len) continue;
          const s = src[at(line, kk)];
          if (dilate ? s : !s) {
            v = dilate ? 1 : 0;
            break;
          }
        }
        dst[at(line, k)] = v;
      }
  };
  pass(mask, tmp, true, true);
  pass(tmp, mask, false, true);
  pass(mask, tmp, true, false);
  pass(tmp, mask, false, false);
}

/** Enclosed background pockets up to this share of the thumbnail are filled. */
export const MAX_HOLE_SHARE = 0.01;

/** Tissue (1) where `score` is above `high`, or above `low` and connected to such pixels, plus enclosed holes. */
export function tissueRegions(score: Uint8Array, width: number, height: number, high: number, low: number): Uint8Array {
  const n = width * height;
  const mask = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++)
    if (score[i] > high) {
      mask[i] = 1;
      stack[top++] = i;
    }
  // Hysteresis: grow from the strong pixels through pixels above `low`.
  while (top > 0) {
    const i = stack[--top];
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width) continue;
        const j = yy * width + xx;
        if (!mask[j] && score[j] > low) {
          mask[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  close(mask, width, height, CLOSING_RADIUS);
  // Hole filling: flood the background from the border (4-neighbours, so a diagonal gap in a wall of tissue
  // still encloses); what the flood does not reach is enclosed.
  const outside = new Uint8Array(n);
  const seed = (j: number): void => {
    if (!mask[j] && !outside[j]) {
      outside[j] = 1;
      stack[top++] = j;
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (top > 0) {
    const i = stack[--top];
    const x = i % width;
    const y = (i - x) / width;
    if (x > 0) seed(i - 1);
    if (x < width - 1) seed(i + 1);
    if (y > 0) seed(i - width);
    if (y < height - 1) seed(i + width);
  }
  // Each enclosed pocket (4-connected) is filled when it is small.
  const maxHole = Math.max(1, Math.floor(MAX_HOLE_SHARE * n));
  const pocket = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    if (mask[start] || outside[start]) continue;
    let size = 0;
    outside[start] = 1;
    stack[top++] = start;
    while (top > 0) {
      const i = stack[--top];
      pocket[size++] = i;
      const x = i % width;
      for (const j of [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i - width, i + width])
        if (j >= 0 && j < n && !mask[j] && !outside[j]) {
          outside[j] = 1;
          stack[top++] = j;
        }
    }
    if (size <= maxHole) for (let k = 0; k < size; k++) mask[pocket[k]] = 1;
  }
  return mask;
}

/** The lower threshold: halfway from the background's level (the median score of the pixels at or below
 * `high`, mostly glass) to `high`, never below `floor`. */
export function lowThreshold(score: Uint8Array, high: number, floor: number): number {
  const hist = new Float64Array(256);
  let count = 0;
  for (const v of score)
    if (v <= high) {
      hist[v]++;
      count++;
    }
  let acc = 0;
  let median = 0;
  for (let v = 0; v <= high; v++) {
    acc += hist[v];
    if (acc >= count / 2) {
      median = v;
      break;
    }
  }
  return Math.max(floor, Math.round((median + high) / 2));
}
