// A pixel size typed by the user (µm per pixel at full resolution), checked as the API checks it.
import { STATED_MPP_MAX, STATED_MPP_MIN } from '../../../core/common/api-schema.js';

/** The number, or a sentence saying what is wrong with the text. */
export function parsePixelSize(text: string): { mpp: number } | { error: string } {
  const t = text.trim().replace(',', '.');
  if (t === '') return { error: 'Type the pixel size in µm per pixel, e.g. 0.5 for a 20× scan.' };
  const mpp = Number(t);
  if (!Number.isFinite(mpp) || mpp <= 0) return { error: `"${text.trim()}" is not a positive number of µm per pixel.` };
  if (mpp < STATED_MPP_MIN || mpp > STATED_MPP_MAX)
    return { error: `${mpp} µm per pixel is outside ${STATED_MPP_MIN} to ${STATED_MPP_MAX}; check the scanner's or microscope's value.` };
  return { mpp };
}
