// A multi-channel region drawn as RGB: each visible channel scaled by its contrast limits (and gamma) and
// tinted with its colour, the channels added and the sum clamped (additive blending, as fluorescence
// viewers show channels together).
import type { ChannelDisplay } from '../../common/api.js';
import type { ChannelImage, RgbImage } from '../reader.js';

export function composite(img: ChannelImage, display: readonly ChannelDisplay[]): RgbImage {
  const n = img.width * img.height;
  const acc = new Float32Array(n * 3);
  for (let c = 0; c < img.channels; c++) {
    const d = display[c];
    if (!d?.visible) continue;
    const [r, g, b] = d.color;
    if (r === 0 && g === 0 && b === 0) continue;
    const plane = img.data.subarray(c * n, (c + 1) * n);
    const span = d.max - d.min;
    const gamma = d.gamma ?? 1;
    for (let i = 0; i < n; i++) {
      const v = plane[i];
      let t = span > 0 ? (v - d.min) / span : v > d.min ? 1 : 0;
      if (!(t > 0)) continue; // also NaN
      if (t > 1) t = 1;
      if (gamma !== 1) t = t ** gamma;
      acc[i * 3] += t * r;
      acc[i * 3 + 1] += t * g;
      acc[i * 3 + 2] += t * b;
    }
  }
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) data[i] = Math.min(255, Math.round(acc[i])); // Uint8Array clamps below at 0
  return { data, width: img.width, height: img.height };
}
