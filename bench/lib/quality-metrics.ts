// The quality benchmark's raw-pixel baselines (bench/quality.bench.ts): per-dimension z-scoring, and two pixel
// features per patch — mean + std of each colour channel, and a tiny image (the patch box-averaged to
// s × s × 3). The adjusted Rand index lives in core/train/health/ari.ts (the demo's quality test uses it too).

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
