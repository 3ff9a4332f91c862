// Test support for extraction: textured images, a random tiny ViT and an independent whole-image forward
// pass (a TileModel over the image's whole patch grid, batch 1) to compare extracted stores against.
import type { ImageReader } from '../../data/reader.js';
import { vitConfig, type ViTConfig } from '../../model/config.js';
import { initParams } from '../../model/params.js';
import { TileModel } from './model.js';
import { normaliseInto } from './pixels.js';

/** A textured RGB image (h, w, 3): sinusoids of several periods plus seeded noise, so every patch differs. */
export function texture(w: number, h: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        out[3 * (y * w + x) + c] = Math.max(
          0,
          Math.min(255, 128 + 60 * Math.sin((x * (c + 1)) / 9 + y / 13) + 40 * Math.cos((y * (c + 2)) / 17) + 30 * (rnd() - 0.5)),
        );
  return out;
}

/** A random tiny DINOv2-style ViT (patch 14, 2 blocks of 64, 2 heads, 4 registers); LayerScale 1 mixes strongly. */
export const tinyViT = (layerScale: number): ViTConfig =>
  vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4, layerScale: { init: layerScale } });

export type Params = ReturnType<typeof initParams>;

/** One forward pass over the reader's level-0 gridWidth × gridHeight patches: (gridHeight, gridWidth, D). */
export async function wholePass(
  cfg: ViTConfig,
  weights: Params,
  reader: ImageReader,
  gridWidth: number,
  gridHeight: number,
): Promise<Float32Array> {
  const [W, H] = [gridWidth * cfg.patchSize, gridHeight * cfg.patchSize];
  const m = await TileModel.create(cfg, weights, { batch: 1, height: H, width: W, outputs: ['patches'], threads: 1 });
  try {
    const buf = new Float32Array(3 * H * W); // (1, 3, H, W)
    normaliseInto(await reader.readRegion(0, 0, 0, W, H), buf, 0);
    return (await m.run(buf)).patches;
  } finally {
    await m.release();
  }
}

/** Largest |a − b| / max(1, |b|) over all values (float16 storage rounds to 2^-11 relative). */
export function worstError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`worstError: ${a.length} vs ${b.length} values`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** Relative RMS error ‖a − b‖ / ‖b‖. */
export function relativeRms(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(e / n);
}
