// Multi-channel (fluorescence) samples → model input, the one place where a file's units become [0, 1].
//
// Choice: a per-image, per-channel robust window. For each channel, `low` is its 1st percentile and `high`
// its 99.9th percentile over the whole image read at a coarse pyramid level (at most WINDOW_PIXELS pixels);
// samples are mapped by (v − low) / (high − low) and clamped to [0, 1]. Why:
//   - a 16-bit camera rarely fills its type range (signal in 0–4000 of 0–65535): scaling by the type
//     range would leave most channels nearly black, and differently per channel;
//   - the 1st percentile is the background (camera offset, autofluorescence floor) of a mostly dark
//     fluorescence image, so background maps to ~0 whatever the offset;
//   - the 99.9th percentile, unlike the maximum, ignores hot pixels and saturated specks, and keeps the
//     brightest 0.1 % of the image (bright structures) at 1 instead of letting one speck set the scale;
//   - one window per image (not per tile) keeps tiles of the same image comparable, and per image absorbs
//     exposure differences between images of a collection.
// A channel whose window is empty (a flat channel: high ≤ low) falls back to its sample type's range
// (ChannelInfo.range), so it maps to a constant instead of amplifying nothing into noise.
// Model input follows from [0, 1] (core/model/input-norm.ts): C-channel models normalise every channel with
// CHANNEL_MEAN / CHANNEL_STD; an RGB model sees one channel at a time as grey replicated to R, G and B,
// normalised with the ImageNet statistics.
import type { ChannelInfo } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { ChannelWindow } from '../common/feature-input.js';
import { CHANNEL_MEAN, CHANNEL_STD, IMAGENET_MEAN, IMAGENET_STD } from '../model/input-norm.js';
import type { ChannelImage, ImageReader } from './reader.js';

export type { ChannelWindow };

/** Percentiles (0–100) that set a window's low and high. */
export const WINDOW_PERCENTILES = { low: 1, high: 99.9 } as const;
/** The coarse read the windows are taken from holds at most this many pixels (1024²). */
export const WINDOW_PIXELS = 1 << 20;

/** The q-th percentile (0–100, nearest rank) of `values`, which it sorts in place. */
function percentileSorted(sorted: Float32Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((q / 100) * (sorted.length - 1))));
  return sorted[i];
}

/** Every channel's window from samples of the whole image (any resolution). */
export function channelWindows(img: ChannelImage, channels: readonly ChannelInfo[]): ChannelWindow[] {
  if (img.channels !== channels.length)
    throw new DinoscopeError('BAD_INPUT', `the image has ${img.channels} channels but its metadata lists ${channels.length}`);
  const plane = img.width * img.height;
  const out: ChannelWindow[] = [];
  for (let c = 0; c < img.channels; c++) {
    const values = img.data.slice(c * plane, (c + 1) * plane).sort();
    const low = plane ? percentileSorted(values, WINDOW_PERCENTILES.low) : 0;
    const high = plane ? percentileSorted(values, WINDOW_PERCENTILES.high) : 0;
    out.push(high > low ? { low, high } : { low: channels[c].range[0], high: Math.max(channels[c].range[1], channels[c].range[0] + 1) });
  }
  return out;
}

/** The coarsest-but-one rule: the finest level whose whole image holds at most WINDOW_PIXELS (else the coarsest). */
export function windowLevel(reader: ImageReader): number {
  const levels = reader.meta.levels;
  for (let l = 0; l < levels.length; l++) if (levels[l].width * levels[l].height <= WINDOW_PIXELS) return l;
  return levels.length - 1;
}

/** The windows of a multi-channel image, read from one coarse level of it. */
export async function readChannelWindows(reader: ImageReader): Promise<ChannelWindow[]> {
  const channels = reader.meta.channels;
  if (!channels || !reader.readChannels) throw new DinoscopeError('BAD_INPUT', `${reader.path} is not a multi-channel image`);
  const level = windowLevel(reader);
  const { width, height } = reader.meta.levels[level];
  let img = await reader.readChannels(level, 0, 0, width, height);
  if (img.width * img.height > 4 * WINDOW_PIXELS) img = subsample(img, Math.ceil(Math.sqrt((img.width * img.height) / WINDOW_PIXELS)));
  return channelWindows(img, channels);
}

/** Every s-th sample in each direction (a flat image with no small enough level). */
function subsample(img: ChannelImage, s: number): ChannelImage {
  const w = Math.ceil(img.width / s);
  const h = Math.ceil(img.height / s);
  const data = new Float32Array(img.channels * w * h);
  for (let c = 0; c < img.channels; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = img.data[(c * img.height + y * s) * img.width + x * s];
  return { data, width: w, height: h, channels: img.channels };
}

/** Samples scaled by their channel's window and clamped: planar (C, H, W) in [0, 1]. */
export function scaleChannels(img: ChannelImage, windows: readonly ChannelWindow[]): Float32Array {
  if (windows.length !== img.channels) throw new Error(`scaleChannels: ${windows.length} windows for ${img.channels} channels`);
  const plane = img.width * img.height;
  const out = new Float32Array(img.channels * plane);
  for (let c = 0; c < img.channels; c++) {
    const { low, high } = windows[c];
    const k = 1 / (high - low);
    const base = c * plane;
    for (let i = 0; i < plane; i++) {
      const v = (img.data[base + i] - low) * k;
      out[base + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return out;
}

/** Scaled samples (C, H, W) in [0, 1] written as a C-channel model's input into slot b of (B, C, H, W). */
export function channelsInputInto(scaled: Float32Array, dst: Float32Array, b: number): void {
  const base = b * scaled.length;
  for (let i = 0; i < scaled.length; i++) dst[base + i] = (scaled[i] - CHANNEL_MEAN) / CHANNEL_STD;
}

/** Channel c of scaled samples (C, H, W) as grey replicated to RGB, an RGB model's input, into slot b of (B, 3, H, W). */
export function greyInputInto(scaled: Float32Array, plane: number, c: number, dst: Float32Array, b: number): void {
  const src = c * plane;
  const base = b * 3 * plane;
  for (let k = 0; k < 3; k++) {
    const m = IMAGENET_MEAN[k];
    const s = IMAGENET_STD[k];
    for (let i = 0; i < plane; i++) dst[base + k * plane + i] = (scaled[src + i] - m) / s;
  }
}
