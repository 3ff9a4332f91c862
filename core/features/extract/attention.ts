// Attention and token-norm maps over a region: the region (level-0 pixels) at the working resolution is
// cut into model tiles (no margins: CLS attention is a property of one forward pass), and each tile gives
// the last block's CLS → patch attention (mean over heads, × N so 1 = uniform) and each patch token's
// output norm (the register paper's outlier diagnostic). The grids are stitched over the region.
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader } from '../../data/reader.js';
import type { TileModel } from './model.js';
import { normaliseInto, readWorking } from './pixels.js';
import type { WorkingResolution } from './resolution.js';

/** At most this many patches per side of a region (an interactive request, not an extraction). */
export const MAX_REGION_PATCHES = 96;

export interface RegionMaps {
  /** Level-0 pixel of patch (0, 0)'s corner and level-0 pixels per patch. */
  x: number;
  y: number;
  stride: number;
  gridWidth: number;
  gridHeight: number;
  /** (gridHeight, gridWidth) each. */
  attention: Float32Array;
  tokenNorms: Float32Array;
  /** Output norms of the register tokens, averaged over tiles (registers are the high-norm sinks). */
  registerNorms: number[];
}

/** Progress and cancellation of one request (an interactive job: tiles take a second or more each on a CPU). */
export interface RegionMapHooks {
  signal?: AbortSignal;
  /** Tiles done of the region's tiles. */
  progress?: (done: number, total: number) => void;
}

/** `model` must output 'attention' (B, h, N) and 'tokenNorms' (B, T) for square tiles (`model.width` = `model.height`). */
export async function regionMaps(
  reader: ImageReader,
  res: WorkingResolution,
  model: TileModel,
  region: { x: number; y: number; width: number; height: number },
  file: string,
  hooks: RegionMapHooks = {},
): Promise<RegionMaps> {
  const p = model.config.patchSize;
  const S = model.width;
  const P = S / p; // patches per tile side
  const R = model.config.registers;
  const heads = model.config.heads;
  // Snap the region to the patch grid of the working resolution.
  const gx0 = Math.max(0, Math.floor(region.x / res.stride));
  const gy0 = Math.max(0, Math.floor(region.y / res.stride));
  const gx1 = Math.min(res.gridWidth, Math.ceil((region.x + region.width) / res.stride));
  const gy1 = Math.min(res.gridHeight, Math.ceil((region.y + region.height) / res.stride));
  const gw = gx1 - gx0;
  const gh = gy1 - gy0;
  if (!(gw > 0 && gh > 0))
    throw new DinoscopeError(
      'BAD_INPUT',
      `${file}: the region ${region.width} × ${region.height} at (${region.x}, ${region.y}) lies outside the image.`,
    );
  if (gw > MAX_REGION_PATCHES || gh > MAX_REGION_PATCHES)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${file}: the region spans ${gw} × ${gh} patches; zoom in to at most ${MAX_REGION_PATCHES} × ${MAX_REGION_PATCHES}.`,
    );
  const attention = new Float32Array(gw * gh); // (gh, gw)
  const tokenNorms = new Float32Array(gw * gh);
  const regSum = new Array<number>(R).fill(0);
  let tiles = 0;
  const B = model.options.batch;
  const buf = new Float32Array(B * 3 * S * S); // (B, 3, S, S)
  const total = Math.ceil(gh / P) * Math.ceil(gw / P);
  hooks.progress?.(0, total);
  for (let ty = 0; ty < gh; ty += P) {
    for (let tx = 0; tx < gw; tx += P) {
      if (hooks.signal?.aborted) throw new DinoscopeError('CANCELLED', `${file}: attention maps cancelled.`);
      buf.fill(0);
      normaliseInto(await readWorking(reader, res, (gx0 + tx) * p, (gy0 + ty) * p, S), buf, 0);
      const out = await model.run(buf);
      const att = out.attention; // (B, heads, P²), tile 0
      const norms = out.tokenNorms; // (B, 1 + R + P²), tile 0
      for (let j = 0; j < P && ty + j < gh; j++) {
        for (let i = 0; i < P && tx + i < gw; i++) {
          const n = j * P + i;
          let a = 0;
          for (let h = 0; h < heads; h++) a += att[h * P * P + n];
          const dst = (ty + j) * gw + tx + i;
          attention[dst] = (a / heads) * P * P;
          tokenNorms[dst] = norms[1 + R + n];
        }
      }
      for (let r = 0; r < R; r++) regSum[r] += norms[1 + r];
      tiles++;
      hooks.progress?.(tiles, total);
    }
  }
  return {
    x: gx0 * res.stride,
    y: gy0 * res.stride,
    stride: res.stride,
    gridWidth: gw,
    gridHeight: gh,
    attention,
    tokenNorms,
    registerNorms: regSum.map((s) => s / tiles),
  };
}
