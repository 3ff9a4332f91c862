// Neighbour smoothing of patch features for the PCA and cluster maps: each indexed patch's unit vector is
// replaced by the Gaussian-weighted sum of the indexed patches around it on its image's grid (σ in patches,
// truncated at 2σ), normalised back to unit length. A ViT patch of 16 px sees part of a gland or a few
// nuclei, so its own vector varies from patch to patch inside one tissue; the maps a user reads are of
// regions, and averaging over a neighbourhood makes them follow the regions (the demo slides after 65 steps:
// k = 5 cluster map ARI 0.41–0.52 raw, 0.75–0.89 at σ 1 patch; core/demo/README.md). Slide tools do the
// same for tile classifiers (QuPath's smoothed features). Search stays per patch: only the maps are smoothed.
// Patches outside the index (background, the tissue mask) neither contribute nor receive; an isolated
// patch keeps its own vector.

/** Gaussian weights w[|k|] for offsets 0..r, r = ⌈2σ⌉. */
export function smoothingWeights(sigma: number): Float64Array {
  const r = Math.ceil(2 * sigma);
  return Float64Array.from({ length: r + 1 }, (_, k) => Math.exp(-(k * k) / (2 * sigma * sigma)));
}

/** Smoothed unit vectors (n, d) of one image's indexed patches: `vectors` (n, d) at grid `positions`
 * (y · gridWidth + x). Separable: a horizontal pass into a ring of 2r + 1 dense grid rows, then a vertical
 * sum per indexed patch, so the cost is O((n + cells) · r · d) and the memory (2r + 1) · gridWidth · d.
 * σ ≤ 0 returns `vectors` itself. `turn`, awaited about every `rowsPerTurn` patches, lets the caller's thread
 * answer other calls meanwhile. */
export async function smoothGrid(
  vectors: Float32Array,
  positions: Uint32Array,
  gridWidth: number,
  gridHeight: number,
  d: number,
  sigma: number,
  turn?: () => Promise<void>,
  rowsPerTurn = 1024,
): Promise<Float32Array> {
  if (!(sigma > 0)) return vectors;
  const w = smoothingWeights(sigma);
  const r = w.length - 1;
  const n = positions.length;
  // Indexed patches of each grid row, as indices into `vectors`.
  const rowStart = new Int32Array(gridHeight + 1);
  for (let i = 0; i < n; i++) rowStart[Math.floor(positions[i] / gridWidth) + 1]++;
  for (let y = 0; y < gridHeight; y++) rowStart[y + 1] += rowStart[y];
  const byRow = new Int32Array(n);
  const fill = rowStart.slice(0, gridHeight);
  for (let i = 0; i < n; i++) byRow[fill[Math.floor(positions[i] / gridWidth)]++] = i;

  const slots = 2 * r + 1;
  const ring = new Float32Array(slots * gridWidth * d); // (slots, gridWidth, d) horizontal sums of grid rows
  const ringRow = new Int32Array(slots).fill(-1);
  const horizontal = (y: number): void => {
    const slot = y % slots;
    const base = slot * gridWidth * d;
    ring.fill(0, base, base + gridWidth * d);
    ringRow[slot] = y;
    for (let q = rowStart[y]; q < rowStart[y + 1]; q++) {
      const i = byRow[q];
      const x = positions[i] % gridWidth;
      const v = i * d;
      for (let dx = -r; dx <= r; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= gridWidth) continue;
        const wx = w[Math.abs(dx)];
        const o = base + xx * d;
        for (let c = 0; c < d; c++) ring[o + c] += wx * vectors[v + c];
      }
    }
  };

  const out = new Float32Array(n * d);
  const acc = new Float64Array(d);
  let sinceTurn = 0;
  for (let y = 0; y < gridHeight; y++) {
    if (rowStart[y] === rowStart[y + 1]) continue;
    sinceTurn += rowStart[y + 1] - rowStart[y];
    if (turn && sinceTurn >= rowsPerTurn) {
      sinceTurn = 0;
      await turn();
    }
    for (let yy = Math.max(0, y - r); yy <= Math.min(gridHeight - 1, y + r); yy++) if (ringRow[yy % slots] !== yy) horizontal(yy);
    for (let q = rowStart[y]; q < rowStart[y + 1]; q++) {
      const i = byRow[q];
      const x = positions[i] % gridWidth;
      acc.fill(0);
      for (let yy = Math.max(0, y - r); yy <= Math.min(gridHeight - 1, y + r); yy++) {
        const wy = w[Math.abs(yy - y)];
        const o = ((yy % slots) * gridWidth + x) * d;
        for (let c = 0; c < d; c++) acc[c] += wy * ring[o + c];
      }
      writeUnit(acc, out, i * d, vectors);
    }
  }
  return out;
}

/** Smoothed unit vectors of chosen indexed patches, each from its neighbours directly: for a sample of
 * rows of a large collection, where smoothing whole images would read every row. `vectorAt(p, dst)` writes
 * the unit vector of the image's patch at grid position p into dst and returns false where it has none. */
export function smoothAt(
  positions: ArrayLike<number>,
  gridWidth: number,
  gridHeight: number,
  d: number,
  sigma: number,
  vectorAt: (position: number, dst: Float32Array) => boolean,
  out: Float32Array = new Float32Array(positions.length * d),
): Float32Array {
  const w = sigma > 0 ? smoothingWeights(sigma) : Float64Array.of(1);
  const r = w.length - 1;
  const v = new Float32Array(d);
  const acc = new Float64Array(d);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    const x = p % gridWidth;
    const y = Math.floor(p / gridWidth);
    acc.fill(0);
    for (let yy = Math.max(0, y - r); yy <= Math.min(gridHeight - 1, y + r); yy++)
      for (let xx = Math.max(0, x - r); xx <= Math.min(gridWidth - 1, x + r); xx++) {
        if (!vectorAt(yy * gridWidth + xx, v)) continue;
        const wxy = w[Math.abs(xx - x)] * w[Math.abs(yy - y)];
        for (let c = 0; c < d; c++) acc[c] += wxy * v[c];
      }
    writeUnit(acc, out, i * d, null);
  }
  return out;
}

/** acc / ‖acc‖ into out at offset o; a zero sum (no neighbour) keeps `fallback`'s own row, or zeros. */
function writeUnit(acc: Float64Array, out: Float32Array, o: number, fallback: Float32Array | null): void {
  let s = 0;
  for (let c = 0; c < acc.length; c++) s += acc[c] * acc[c];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < acc.length; c++) out[o + c] = acc[c] * inv;
  } else if (fallback) out.set(fallback.subarray(o, o + acc.length), o);
}
