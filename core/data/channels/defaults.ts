// The display a multi-channel image starts with: each channel in the file's colour (else a fixed palette
// in the order fluorescence viewers use), the first MAX_DEFAULT_VISIBLE channels shown (or those the file
// marks active), contrast limits from the file's display window where it states one, else the
// auto-contrast quantiles of a low level, else the sample type's range.
import type { ChannelDisplay, ChannelHistogram, ChannelInfo } from '../../common/api.js';

export const MAX_DEFAULT_VISIBLE = 6;

/** Blue, green, red, magenta, cyan, yellow, orange, white: then again. */
export const PALETTE: readonly [number, number, number][] = [
  [0, 0, 255],
  [0, 255, 0],
  [255, 0, 0],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 0],
  [255, 128, 0],
  [255, 255, 255],
];

export function defaultColor(info: ChannelInfo, index: number, count: number): [number, number, number] {
  if (info.color && (info.color[0] > 0 || info.color[1] > 0 || info.color[2] > 0)) return info.color;
  if (count === 1) return [255, 255, 255];
  return PALETTE[index % PALETTE.length];
}

export function defaultDisplay(channels: readonly ChannelInfo[], histograms?: readonly ChannelHistogram[]): ChannelDisplay[] {
  const anyActive = channels.some((c) => c.active !== undefined);
  let shown = 0;
  return channels.map((info, i) => {
    const visible = (anyActive ? info.active === true : true) && shown < MAX_DEFAULT_VISIBLE;
    if (visible) shown++;
    const h = histograms?.[i];
    const [min, max] = info.window ?? (h ? [h.autoMin, h.autoMax] : info.range);
    return { color: defaultColor(info, i, channels.length), visible, min, max };
  });
}
