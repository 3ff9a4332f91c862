// Channel display settings as the API takes and the project keeps them: checked against the image's
// channels, and named by a short key (tile caches and tile URLs carry it, so a change of settings is a
// new set of tiles, never a stale one).
import type { ChannelDisplay, ChannelHistogram, ChannelInfo } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader } from '../reader.js';
import { defaultDisplay } from './defaults.js';
import { channelHistograms } from './histogram.js';

/** Longest side of the level that histograms and default contrast limits are taken from. */
export const STATS_SIDE = 1024;

/** The display for `channels`, or BAD_INPUT saying what is wrong. */
export function checkDisplay(name: string, channels: readonly ChannelInfo[], display: readonly ChannelDisplay[]): ChannelDisplay[] {
  if (display.length !== channels.length)
    throw new DinoscopeError('BAD_INPUT', `${name} has ${channels.length} channels; the display settings list ${display.length}.`);
  return display.map((d, i) => {
    const what = `${name}, channel ${i + 1} (${channels[i].name})`;
    if (!(d.max > d.min))
      throw new DinoscopeError('BAD_INPUT', `${what}: the contrast maximum (${d.max}) must be above the minimum (${d.min}).`);
    if (d.gamma !== undefined && !(d.gamma > 0 && d.gamma <= 10))
      throw new DinoscopeError('BAD_INPUT', `${what}: gamma must be above 0 and at most 10, got ${d.gamma}.`);
    if (d.color.length !== 3 || d.color.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
      throw new DinoscopeError('BAD_INPUT', `${what}: the colour must be three whole numbers from 0 to 255.`);
    return {
      color: [d.color[0], d.color[1], d.color[2]],
      visible: d.visible,
      min: d.min,
      max: d.max,
      ...(d.gamma !== undefined && d.gamma !== 1 ? { gamma: d.gamma } : {}),
    };
  });
}

/** A short stable key of display settings (FNV-1a of their JSON, 8 hex digits). */
export function displayKey(display: readonly ChannelDisplay[]): string {
  const text = JSON.stringify(display.map((d) => [d.color, d.visible, d.min, d.max, d.gamma ?? 1]));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The level whose statistics stand for the image: the finest whose longer side is at most STATS_SIDE
 * (the smallest level when none is). */
export function statsLevel(levels: readonly { width: number; height: number }[]): number {
  let k = levels.length - 1;
  while (k > 0 && Math.max(levels[k - 1].width, levels[k - 1].height) <= STATS_SIDE) k--;
  return k;
}

/** Per-channel histograms of a multi-channel reader, from its statistics level (at most STATS_SIDE²). */
export async function readerHistograms(reader: ImageReader): Promise<ChannelHistogram[]> {
  if (!reader.readChannels || !reader.meta.channels)
    throw new DinoscopeError('BAD_INPUT', `${reader.path} is not a multi-channel image: it has no channels.`);
  const k = statsLevel(reader.meta.levels);
  const l = reader.meta.levels[k];
  return channelHistograms(await reader.readChannels(k, 0, 0, Math.min(l.width, STATS_SIDE), Math.min(l.height, STATS_SIDE)));
}

/** The display an image starts with (defaults.ts) over its histograms; the same one its reader's
 * readRegion draws with. */
export async function readerDefaultDisplay(reader: ImageReader): Promise<ChannelDisplay[]> {
  const channels = reader.meta.channels ?? [];
  return defaultDisplay(channels, channels.some((c) => !c.window) ? await readerHistograms(reader) : undefined);
}
