// Which patches hold tissue: the Otsu tissue mask of the thumbnail (the "Tissue mask" overlay's mask),
// sampled at each patch centre. Tiles are computed when any patch of their core lies on the mask dilated
// by one thumbnail pixel (a thumbnail pixel spans many patches on a large slide, so its edge is coarse).
import type { Mask } from '../../data/tissue-mask.js';

/** Dilate a binary mask by one pixel (8-neighbourhood). */
export function dilate(m: Mask): Mask {
  const out = new Uint8Array(m.data.length);
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (!m.data[y * m.width + x]) continue;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= m.height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < m.width) out[yy * m.width + xx] = 1;
        }
      }
    }
  }
  return { width: m.width, height: m.height, data: out };
}

/** (gridHeight, gridWidth) 1/0: the mask pixel under each patch centre. width/height: level-0 image size. */
export function patchMask(m: Mask, width: number, height: number, stride: number, gridWidth: number, gridHeight: number): Uint8Array {
  const out = new Uint8Array(gridWidth * gridHeight); // (gh, gw)
  const sx = m.width / width;
  const sy = m.height / height;
  for (let gy = 0; gy < gridHeight; gy++) {
    const my = Math.min(m.height - 1, Math.floor((gy + 0.5) * stride * sy));
    for (let gx = 0; gx < gridWidth; gx++) {
      const mx = Math.min(m.width - 1, Math.floor((gx + 0.5) * stride * sx));
      out[gy * gridWidth + gx] = m.data[my * m.width + mx];
    }
  }
  return out;
}

/** Whether any cell of the rectangle is set in a (gh, gw) mask. */
export function anySet(mask: Uint8Array, gridWidth: number, r: { x: number; y: number; width: number; height: number }): boolean {
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) if (mask[y * gridWidth + x]) return true;
  return false;
}
