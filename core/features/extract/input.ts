// What the model sees of an image: its route from pixels to features, chosen per run from the model's input
// channels and the images' channels, and recorded in each store's manifest and on the feature set.
//   'rgb'         an RGB image through an RGB model (readRegion, ImageNet normalisation): dim D.
//   'channels'    a C-channel image through a C-channel model (trained from scratch on the panel, or an RGB
//                 model inflated to C channels and pretrained further): every channel scaled by its window
//                 (core/data/channel-scaling.ts), grey statistics: dim D.
//   'per-channel' a C-channel image through an RGB foundation model, no training: each channel, scaled by its
//                 window, as grey replicated to R, G and B, through the shared encoder; the C feature vectors
//                 of a patch are CONCATENATED in file channel order: dim C·D. Concatenation, not the mean,
//                 because a structure seen in one channel only must stay distinguishable from the same
//                 texture in another channel (the mean would make a nucleus in DAPI and a vessel texture in
//                 CD31 alike, and dilutes a one-channel signal C-fold); cosine similarity on the
//                 concatenation is the mean of the channels' dot products over the joint norm.
// The route is the run's: images that do not fit it (an RGB image in a channel run, another channel count)
// are skipped with the reason, so one feature set has one dim and one meaning.
import type { ChannelInfo, ImageMetadata } from '../../common/api.js';
import type { ExtractChannelRoute } from '../../common/channel-routes.js';
import type { FeatureInput, FeatureRoute } from '../../common/feature-input.js';
import { WINDOW_PERCENTILES, channelsInputInto, greyInputInto, readChannelWindows, scaleChannels } from '../../data/channel-scaling.js';
import type { ChannelImage, ImageReader } from '../../data/reader.js';
import { chwImage } from '../../data/train/augment/image.js';
import { resizedCrop } from '../../data/train/augment/resized-crop.js';
import type { ViTConfig } from '../../model/config.js';
import { normaliseInto, readWorking } from './pixels.js';
import type { WorkingResolution } from './resolution.js';

export type { FeatureInput, FeatureRoute };

/** The route a run with model `cfg` takes on an image of metadata `meta`. */
export function routeFor(cfg: Pick<ViTConfig, 'inChans'>, meta: ImageMetadata): FeatureRoute | { refused: string } {
  const C = meta.channels?.length ?? 0;
  if (C === 0) {
    if (cfg.inChans === 3) return 'rgb';
    return { refused: `it is an RGB image and the model takes ${cfg.inChans} channels (a model trained on a fluorescence panel)` };
  }
  if (cfg.inChans === 3) return 'per-channel';
  if (cfg.inChans === C) return 'channels';
  return { refused: `it has ${C} channels and the model takes ${cfg.inChans}` };
}

/**
 * The user's route for multi-channel images (ExtractOptions.channels), checked against the model before a
 * run: a plain sentence naming what to choose instead when `modelId` (taking `inChans` channels) cannot take
 * it, else null.
 */
export function channelChoiceRefusal(choice: ExtractChannelRoute, modelId: string, inChans: number): string | null {
  if (choice === 'per-channel' && inChans !== 3)
    return `the per-channel route runs an RGB model on each channel, and ${modelId} takes ${inChans} channels (a model of the panel): choose the channels route for it, or an RGB model.`;
  if (choice === 'channels' && inChans === 3)
    return `the channels route needs a model that takes the panel's channels at once (made by dinoscope pretrain --channels embed or inflate), and ${modelId} is an RGB model: choose per-channel for it, or such a model.`;
  return null;
}

/** The FeatureInput of a route on an image with `channels`. */
export function featureInput(route: FeatureRoute, channels: readonly ChannelInfo[] | undefined): FeatureInput {
  if (route === 'rgb') return { route };
  const names = (channels ?? []).map((c) => c.name);
  const scaling = { kind: 'percentile-window' as const, low: WINDOW_PERCENTILES.low, high: WINDOW_PERCENTILES.high };
  return route === 'per-channel' ? { route, channels: names, combine: 'concat', scaling } : { route, channels: names, scaling };
}

/** Model images per tile: C for 'per-channel' (one grey image per channel), else 1. */
export const imagesPerTile = (input: FeatureInput): number => (input.route === 'per-channel' ? input.channels!.length : 1);

/** The feature dimension the stores hold: C·D for 'per-channel', else D. */
export const featureDim = (input: FeatureInput, D: number): number => imagesPerTile(input) * D;

/** Two routes describe the same features (a store made for one is resumable by the other). */
export function sameInput(a: FeatureInput | undefined, b: FeatureInput | undefined): boolean {
  const key = (x: FeatureInput | undefined): string =>
    x === undefined || x.route === 'rgb' ? 'rgb' : JSON.stringify([x.route, x.channels, x.combine ?? null, x.scaling]);
  return key(a) === key(b);
}

/** Reads an image's working-resolution rectangles as model input along one route. */
export class PixelSource {
  private constructor(
    private readonly reader: ImageReader,
    private readonly res: WorkingResolution,
    readonly input: FeatureInput,
  ) {}

  /** For a multi-channel route, reads the image's channel windows first (one coarse read). */
  static async open(reader: ImageReader, res: WorkingResolution, route: FeatureRoute): Promise<PixelSource> {
    const input = featureInput(route, reader.meta.channels);
    if (route !== 'rgb') input.windows = await readChannelWindows(reader);
    return new PixelSource(reader, res, input);
  }

  /** Model images per tile (1, or C for 'per-channel'). */
  get images(): number {
    return imagesPerTile(this.input);
  }

  /** The channels' samples of a working-pixel rectangle, scaled to [0, 1]: (C, h, w). */
  private async scaled(x: number, y: number, width: number, height: number): Promise<Float32Array> {
    const { res } = this;
    const readChannels = this.reader.readChannels!.bind(this.reader);
    let img: ChannelImage;
    if (Math.abs(res.resample - 1) < 1e-9) img = await readChannels(res.level, x, y, width, height);
    else {
      const lw = Math.max(1, Math.round(width * res.resample));
      const lh = Math.max(1, Math.round(height * res.resample));
      img = await readChannels(res.level, Math.round(x * res.resample), Math.round(y * res.resample), lw, lh);
    }
    const scaled = scaleChannels(img, this.input.windows!);
    if (img.width === width && img.height === height) return scaled;
    return resizedCrop(
      chwImage(img.height, img.width, scaled, img.channels),
      { top: 0, left: 0, height: img.height, width: img.width },
      height,
      width,
    ).data;
  }

  /**
   * Writes the rectangle's model images into `dst`, a batch of (B · images, inChans, height, width), starting
   * at image slot `slot` (tile b's images are slots b·images … b·images + images − 1).
   */
  async readInto(x: number, y: number, width: number, height: number, dst: Float32Array, slot: number): Promise<void> {
    if (this.input.route === 'rgb') return normaliseInto(await readWorking(this.reader, this.res, x, y, width, height), dst, slot);
    const scaled = await this.scaled(x, y, width, height);
    if (this.input.route === 'channels') return channelsInputInto(scaled, dst, slot);
    for (let c = 0; c < this.images; c++) greyInputInto(scaled, width * height, c, dst, slot + c);
  }
}

/**
 * Model tokens of `tiles` tiles × k images each, (tiles · k, N, D), as (tiles, N, k·D): a patch's k feature
 * vectors side by side in image (channel) order. k = 1 returns `tokens` itself.
 */
export function combineImages(tokens: Float32Array, tiles: number, k: number, N: number, D: number): Float32Array {
  if (k === 1) return tokens;
  const out = new Float32Array(tiles * N * k * D);
  for (let b = 0; b < tiles; b++)
    for (let c = 0; c < k; c++)
      for (let n = 0; n < N; n++)
        out.set(tokens.subarray(((b * k + c) * N + n) * D, ((b * k + c) * N + n + 1) * D), ((b * N + n) * k + c) * D);
  return out;
}
