// Photometric augmentation of a multi-channel (fluorescence) crop: what colour jitter, grayscale and solarize
// are to an RGB crop. A fluorescence channel has no hue and no saturation, and its intensity varies with
// exposure, staining and bleaching channel by channel, so each channel gets its own
//   gain g ~ U(1 − gain, 1 + gain)           (exposure / labelling strength; DINO's brightness jitter is 0.4)
//   gamma γ = exp(U(−ln gamma, ln gamma))    (the detector's and the window's non-linearity)
//   offset o ~ U(−offset, offset)            (background level left after the window's low percentile)
// applied as v → clamp(g · v^γ + o, 0, 1); and channel dropout (in grayscale's slot, p .2 in the reference
// recipe) zeroes one random channel, so no feature can rely on one marker alone. Solarize and HED stain
// jitter do not apply (an inverted fluorescence channel has a bright background no instrument produces).
import type { Rng } from '../random.js';
import { type ChwImage, channelsOf } from './image.js';

export interface IntensityStrength {
  gain: number;
  gamma: number;
  offset: number;
}

/** The per-channel strengths used by every preset for multi-channel crops. */
export const CHANNEL_INTENSITY: IntensityStrength = { gain: 0.4, gamma: 1.5, offset: 0.1 };

/** One draw per channel: gain, gamma, offset. */
export interface IntensityParams {
  gain: number[];
  gamma: number[];
  offset: number[];
}

/** Draws the per-channel parameters (3 draws per channel, channel by channel: gain, gamma, offset). */
export function sampleIntensity(rng: Rng, channels: number, s: IntensityStrength = CHANNEL_INTENSITY): IntensityParams {
  const p: IntensityParams = { gain: [], gamma: [], offset: [] };
  const lnG = Math.log(s.gamma);
  for (let c = 0; c < channels; c++) {
    p.gain.push(rng.uniform(1 - s.gain, 1 + s.gain));
    p.gamma.push(Math.exp(rng.uniform(-lnG, lnG)));
    p.offset.push(rng.uniform(-s.offset, s.offset));
  }
  return p;
}

/** In place; returns `img`. */
export function channelIntensity(img: ChwImage, p: IntensityParams): ChwImage {
  const C = channelsOf(img);
  if (p.gain.length !== C) throw new RangeError(`channelIntensity: ${p.gain.length} draws for ${C} channels`);
  const plane = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < C; c++) {
    const g = p.gain[c];
    const gm = p.gamma[c];
    const o = p.offset[c];
    for (let i = c * plane; i < (c + 1) * plane; i++) {
      const v = g * Math.pow(d[i] > 0 ? d[i] : 0, gm) + o;
      d[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return img;
}

/** Channel `c` set to 0 (dark: no signal), in place; returns `img`. */
export function dropChannel(img: ChwImage, c: number): ChwImage {
  const plane = img.height * img.width;
  img.data.fill(0, c * plane, (c + 1) * plane);
  return img;
}
