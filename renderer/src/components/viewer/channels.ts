// The channel panel's logic, apart from its markup: presets, the 1–9 keys, colours as CSS hex and the
// extent a contrast slider spans.
import type { ChannelDisplay, ChannelHistogram } from '../../../../core/common/api.js';

export type ChannelPreset = 'all' | 'first3' | 'none';

/** Shows all channels, the first three, or none; everything else stays as it is. */
export function applyPreset(display: readonly ChannelDisplay[], preset: ChannelPreset): ChannelDisplay[] {
  return display.map((d, i) => ({ ...d, visible: preset === 'all' || (preset === 'first3' && i < 3) }));
}

/** The channel index (0-based) the digit key 1–9 toggles, as in napari; null for any other key. */
export function channelForKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>, count: number): number | null {
  if (e.ctrlKey || e.metaKey || e.altKey || !/^[1-9]$/.test(e.key)) return null;
  const i = Number(e.key) - 1;
  return i < count ? i : null;
}

export function toggleChannel(display: readonly ChannelDisplay[], i: number): ChannelDisplay[] {
  return display.map((d, k) => (k === i ? { ...d, visible: !d.visible } : d));
}

export function hexColor([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function parseHex(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The values a channel's contrast sliders span: its samples' extremes and its current limits. */
export function sliderExtent(d: ChannelDisplay, h: ChannelHistogram | undefined): { lo: number; hi: number; step: number } {
  const lo = Math.min(d.min, h?.min ?? d.min);
  let hi = Math.max(d.max, h?.max ?? d.max);
  if (!(hi > lo)) hi = lo + 1;
  const span = hi - lo;
  return { lo, hi, step: span > 200 ? Math.max(1, Math.round(span / 500)) : span / 500 };
}

/** Auto-contrast of one channel: its histogram's quantile limits. */
export function autoContrast(d: ChannelDisplay, h: ChannelHistogram): ChannelDisplay {
  return { ...d, min: h.autoMin, max: h.autoMax };
}
