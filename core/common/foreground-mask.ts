// The foreground (tissue) mask setting of an extraction, in words for the CLI help and the Extract panel.
// What each does: core/data/foreground-mode.ts.

export const MASK_SETTINGS = ['auto', 'off', 'brightfield', 'fluorescence'] as const;
export type MaskSetting = (typeof MASK_SETTINGS)[number];
/** The mask an image was extracted with ('auto' resolved per image). */
export type MaskUsed = 'off' | 'brightfield' | 'fluorescence';

/** One line per setting: what it leaves out. */
export const MASK_EXPLAINED: Record<MaskSetting, string> = {
  auto: 'brightfield or fluorescence, picked per image from its thumbnail (bright or dark background)',
  off: 'every patch, background included: nothing is left out of search and clusters',
  brightfield: 'stained tissue on bright glass: patches of bright background are left out',
  fluorescence: 'signal on a dark background: patches of dark background are left out',
};

/** Under this share of foreground patches an image's extraction suggests the mask may miss tissue. */
export const LOW_FOREGROUND_SHARE = 0.5;
