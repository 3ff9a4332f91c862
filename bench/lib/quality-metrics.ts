// The quality benchmark's measures and raw-pixel baselines (bench/quality.bench.ts): the adjusted Rand
// index of a clustering against ground truth, per-dimension z-scoring, and two pixel features per patch —
// mean + std of each colour channel, and a tiny image (the patch box-averaged to s × s × 3).

/** Adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same items; items with a negative
 * label in `truth` are left out. 1 = identical partitions, ≈ 0 = chance. */
export function adjustedRandIndex(truth: ArrayLike<number>, found: ArrayLike<number>): number {
  const pairs = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  let n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] < 0) continue;
    n++;
    const key = `${truth[i]},${found[i]}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    rows.set(truth[i], (rows.get(truth[i]) ?? 0) + 1);
    cols.set(found[i], (cols.get(found[i]) ?? 0) + 1);
  }
  const c2 = (m: number): number => (m * (m - 1)) / 2;
  let index = 0;
  for (const v of pairs.values()) index += c2(v);
  let a = 0;
  for (const v of rows.values()) a += c2(v);
  let b = 0;
  for (const v of cols.values()) b += c2(v);
  const expected = (a * b) / c2(n);
  const max = (a + b) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

/** Each column of the (n, d) rows shifted to mean 0 and scaled to std 1 (a constant column becomes 0). */
export function zScore(features: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = features[i * d + j];
      s += v;
      s2 += v * v;
    }
    const m = s / n;
    const sd = Math.sqrt(Math.max(0, s2 / n - m * m));
    for (let i = 0; i < n; i++) out[i * d + j] = sd > 0 ? (features[i * d + j] - m) / sd : 0;
  }
  return out;
}

/** Per-patch pixel features of an interleaved RGB image (side × side) on a grid of `cell`-px patches, row
 * order (gy, gx): `stats` (mean and std of R, G, B in [0, 1]: 6 values) and `tiny` (the patch averaged over
 * (cell/s)-px blocks to s × s × 3 values). */
export function pixelFeatures(rgb: Uint8Array, side: number, cell: number, s: number): { stats: Float32Array; tiny: Float32Array } {
  const grid = side / cell;
  const block = cell / s;
  const stats = new Float32Array(grid * grid * 6);
  const tiny = new Float32Array(grid * grid * s * s * 3);
  for (let gy = 0; gy < grid; gy++)
    for (let gx = 0; gx < grid; gx++) {
      const r = gy * grid + gx;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let sum2 = 0;
        for (let y = 0; y < cell; y++)
          for (let x = 0; x < cell; x++) {
            const v = rgb[3 * ((gy * cell + y) * side + gx * cell + x) + c] / 255;
            sum += v;
            sum2 += v * v;
            tiny[((r * s + Math.floor(y / block)) * s + Math.floor(x / block)) * 3 + c] += v / (block * block);
          }
        const m = sum / (cell * cell);
        stats[r * 6 + c] = m;
        stats[r * 6 + 3 + c] = Math.sqrt(Math.max(0, sum2 / (cell * cell) - m * m));
      }
    }
  return { stats, tiny };
}
