// The Extract panel's foreground mask: the choices with their one-line explanations, and after a run each
// image's share of foreground patches (the ones search and clusters see), with a hint when under half.
import type { ExtractSummary, MaskSetting } from '../../../../core/common/api.js';
import { LOW_FOREGROUND_SHARE, MASK_EXPLAINED, MASK_SETTINGS } from '../../../../core/common/foreground-mask.js';

const LABEL: Record<MaskSetting, string> = { auto: 'Automatic', off: 'Off', brightfield: 'Brightfield', fluorescence: 'Fluorescence' };

/** The select's options: value, label and the line under it. */
export const MASK_CHOICES = MASK_SETTINGS.map((value) => ({ value, label: LABEL[value], explained: MASK_EXPLAINED[value] }));

export interface ForegroundLine {
  imageId: string;
  text: string;
  /** Under LOW_FOREGROUND_SHARE: tissue may be missed. */
  low: boolean;
}

/** One line per image: "a.png: 34 % of patches are foreground (brightfield mask)". */
export function foregroundLines(s: ExtractSummary): ForegroundLine[] {
  return s.images.map((im) => {
    const low = im.foregroundShare < LOW_FOREGROUND_SHARE;
    const pct = Math.round(100 * im.foregroundShare);
    const what =
      im.mask === 'off'
        ? 'mask off: every patch is searched'
        : `${pct} % of patches are foreground (${im.mask} mask${s.mask === 'auto' ? ', picked automatically' : ''})`;
    return { imageId: im.imageId, text: `${im.name}: ${what}${low ? '. If tissue is missed, extract again with the mask Off.' : ''}`, low };
  });
}
