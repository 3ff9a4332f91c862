// Per-channel sample statistics of a multi-channel region: the histogram a contrast slider is drawn over
// and the auto-contrast limits, the 0.1 % and 99.9 % quantiles as napari and Viv take them (a few hot
// pixels or a dark border do not set the range).
import type { ChannelHistogram } from '../../common/api.js';
import type { ChannelImage } from '../reader.js';

export const AUTO_LOW = 0.001;
export const AUTO_HIGH = 0.999;
export const HISTOGRAM_BINS = 64;

/** The q-quantile (0 ≤ q ≤ 1) of sorted samples, by the nearest rank below. */
function quantile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

/** One histogram per channel of `img`; NaN samples are left out. */
export function channelHistograms(img: ChannelImage, bins = HISTOGRAM_BINS): ChannelHistogram[] {
  const n = img.width * img.height;
  const out: ChannelHistogram[] = [];
  for (let c = 0; c < img.channels; c++) {
    const plane = img.data.subarray(c * n, (c + 1) * n);
    const finite = plane.filter((v) => Number.isFinite(v));
    finite.sort();
    const min = finite.length > 0 ? finite[0] : 0;
    const max = finite.length > 0 ? finite[finite.length - 1] : 0;
    const counts = new Array<number>(bins).fill(0);
    const width = (max - min) / bins;
    for (const v of finite) counts[width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0]++;
    let autoMin = quantile(finite, AUTO_LOW);
    let autoMax = quantile(finite, AUTO_HIGH);
    if (!(autoMax > autoMin)) {
      // A flat channel (or one whose 99.9 % is its floor): the full range, so any signal still shows.
      autoMin = min;
      autoMax = max > min ? max : min + 1;
    }
    out.push({ min, max, counts, autoMin, autoMax });
  }
  return out;
}
