// Cluster maps as label images: one integer per patch, 0 = background / no features, c + 1 for cluster c
// (1..k), so a label image opens in any tool as a segmentation (QuPath, napari, Fiji) rather than as
// colours. PNG: 8-bit greyscale with pHYs; the colours the app shows go in a separate preview PNG.
import { sharp } from '../../io/sharp.js';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { enlargeLabels } from './ome-tiff.js';
import { withPngPhys } from './png-phys.js';

/** Cluster indices (h, w), < 0 = background, as 8-bit labels: 0 background, c + 1 for cluster c. */
export function clusterLabelImage(labels: Int32Array): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l > 254) throw new DinoscopeError('BAD_INPUT', `cluster ${l} does not fit an 8-bit label image (at most 255 clusters).`);
    out[i] = l < 0 ? 0 : l + 1;
  }
  return out;
}

/** An 8-bit greyscale PNG of (h, w) labels, `ppp` pixels per patch, pHYs from µm per patch (none when null). */
export async function labelPng(
  labels: Uint8Array,
  width: number,
  height: number,
  ppp: number,
  umPerPatch: number | null,
): Promise<Uint8Array> {
  const data = enlargeLabels(labels, width, height, ppp);
  const png = await sharp(data, { raw: { width: width * ppp, height: height * ppp, channels: 1 }, limitInputPixels: false })
    .toColourspace('b-w')
    .png({ compressionLevel: 6 })
    .toBuffer();
  return withPngPhys(png, umPerPatch === null ? null : umPerPatch / ppp);
}

/** An RGBA PNG of an (h, w, 4) map (PCA colours, cluster preview), `ppp` pixels per patch, pHYs as labelPng. */
export async function rgbaPng(
  rgba: Uint8Array,
  width: number,
  height: number,
  ppp: number,
  umPerPatch: number | null,
): Promise<Uint8Array> {
  let img = sharp(rgba, { raw: { width, height, channels: 4 }, limitInputPixels: false });
  if (ppp !== 1) img = img.resize(width * ppp, height * ppp, { kernel: 'nearest' });
  const png = await img.png({ compressionLevel: 6 }).toBuffer();
  return withPngPhys(png, umPerPatch === null ? null : umPerPatch / ppp);
}

export async function writeLabelPng(
  path: string,
  labels: Uint8Array,
  width: number,
  height: number,
  ppp: number,
  umPerPatch: number | null,
): Promise<void> {
  await writeFileAtomic(path, await labelPng(labels, width, height, ppp, umPerPatch));
}
