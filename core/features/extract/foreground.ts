// An image's foreground (tissue) mask for a mask setting: 'auto' resolved from the thumbnail
// (core/data/foreground-mode.ts), the mask read from or written to the project's cache (brightfield masks
// keep the file they always had; fluorescence ones have their own beside it). Extraction and the training
// hand-off (core/train/handoff) use it, so both keep the same patches and tiles.
import type { MaskSetting, MaskUsed } from '../../common/foreground-mask.js';
import { resolveMask } from '../../data/foreground-mode.js';
import { cachedTissueMask } from '../../data/tissue-mask-cache.js';
import { DEFAULT_TISSUE_MASK, type Mask } from '../../data/tissue-mask.js';
import type { Project } from '../../project/project.js';

export interface ImageForeground {
  used: MaskUsed;
  /** The mask, or null with the mask off. */
  mask: Mask | null;
  /** Whether the mask marks anything (a mask without foreground keeps every tile). */
  hasTissue: boolean;
}

export async function imageForeground(
  project: Project,
  imageId: string,
  setting: MaskSetting,
  thumb: Uint8Array,
  /** A multi-channel (fluorescence) image: 'auto' is the dark-background mask, whatever the thumbnail. */
  multiChannel = false,
): Promise<ImageForeground> {
  const used: MaskUsed = setting === 'auto' && multiChannel ? 'fluorescence' : await resolveMask(setting, async () => thumb);
  const file =
    used === 'fluorescence' ? project.tissueMaskPath(imageId).replace(/(\.mask)?$/, '.fluorescence.mask') : project.tissueMaskPath(imageId);
  const mask = used === 'off' ? null : await cachedTissueMask(thumb, file, { ...DEFAULT_TISSUE_MASK, mode: used });
  return { used, mask, hasTissue: mask !== null && mask.data.some((v) => v === 1) };
}
