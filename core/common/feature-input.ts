// How a feature set's images became model input (core/features/extract/input.ts decides and explains the
// routes): recorded on the feature set (project.json) and in each store's manifest.

/** 'rgb': an RGB image, RGB model. 'channels': a C-channel image, C-channel model (dim D). 'per-channel': a
 * C-channel image, RGB model, each channel as grey, features concatenated in channel order (dim C·D). */
export type FeatureRoute = 'rgb' | 'channels' | 'per-channel';

/** One channel's window in the file's units: low → 0, high → 1 (core/data/channel-scaling.ts). */
export interface ChannelWindow {
  low: number;
  high: number;
}

export interface FeatureInput {
  route: FeatureRoute;
  /** Multi-channel routes: the channel names in file order (the per-channel blocks of the features, in order). */
  channels?: string[];
  /** 'per-channel': how a patch's channel features combine ('concat': C blocks of D). */
  combine?: 'concat';
  /** Multi-channel routes: how samples became [0, 1]: per image and channel, the low–high percentile window. */
  scaling?: { kind: 'percentile-window'; low: number; high: number };
  /** A store's manifest: this image's windows (file units), per channel. */
  windows?: ChannelWindow[];
}
