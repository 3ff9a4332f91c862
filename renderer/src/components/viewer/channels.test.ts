// The channel panel's logic: presets, the 1–9 keys (napari's), colours and slider extents.
import { describe, expect, it } from 'vitest';
import type { ChannelDisplay } from '../../../../core/common/api.js';
import { applyPreset, autoContrast, channelForKey, hexColor, parseHex, sliderExtent, toggleChannel } from './channels.js';

const d = (visible: boolean): ChannelDisplay => ({ color: [255, 0, 0], visible, min: 100, max: 1000 });
const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('channel panel logic', () => {
  it('presets show all, the first three, or none', () => {
    const five = [d(false), d(true), d(false), d(true), d(true)];
    expect(applyPreset(five, 'all').map((x) => x.visible)).toEqual([true, true, true, true, true]);
    expect(applyPreset(five, 'first3').map((x) => x.visible)).toEqual([true, true, true, false, false]);
    expect(applyPreset(five, 'none').map((x) => x.visible)).toEqual([false, false, false, false, false]);
  });

  it('1–9 toggle channel N; other keys, modifiers and channels past the count do nothing', () => {
    expect(channelForKey(key('1'), 5)).toBe(0);
    expect(channelForKey(key('5'), 5)).toBe(4);
    expect(channelForKey(key('6'), 5)).toBeNull();
    expect(channelForKey(key('0'), 5)).toBeNull();
    expect(channelForKey(key('2', { ctrlKey: true }), 5)).toBeNull();
    expect(toggleChannel([d(true), d(false)], 1).map((x) => x.visible)).toEqual([true, true]);
  });

  it('colours round-trip as CSS hex; sliders span the samples and the limits; auto takes the quantiles', () => {
    expect(hexColor([255, 0, 128])).toBe('#ff0080');
    expect(parseHex('#ff0080')).toEqual([255, 0, 128]);
    const h = { min: 50, max: 30000, counts: [1], autoMin: 80, autoMax: 20000 };
    expect(sliderExtent(d(true), h)).toEqual({ lo: 50, hi: 30000, step: 60 });
    expect(autoContrast(d(true), h)).toMatchObject({ min: 80, max: 20000 });
  });
});
