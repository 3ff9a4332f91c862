// The ways a multi-channel (fluorescence) panel of C channels reaches a model, named as the CLI's
// --channels flags and the Extract and Train panels show them, each with one line on what it means.
//   Extraction (ExtractOptions.channels, `dinoscope extract --channels`) takes the feature routes of
//   feature-input.ts: 'per-channel' (an RGB model, each channel as grey, C·D features) or 'channels' (a
//   model that takes the C channels at once, D features). The model decides which it can take; the choice
//   says which the user wants, and a model that cannot take it is refused in words before the run.
//   Training (`dinoscope pretrain|adapt --channels`) makes such a 'channels' model, two ways: 'embed' (a
//   C-channel patch embedding from random weights, or a panel model's own continued) or 'inflate' (an RGB
//   model's patch embedding widened to C channels, core/model/inflate.ts, then pretrained further).

/** How extraction feeds a multi-channel image to the model (the set's recorded input.route). */
export const EXTRACT_CHANNEL_ROUTES = ['per-channel', 'channels'] as const;
export type ExtractChannelRoute = (typeof EXTRACT_CHANNEL_ROUTES)[number];

/** How training gives the model the panel's C channels. */
export const TRAIN_CHANNEL_ROUTES = ['embed', 'inflate'] as const;
export type TrainChannelRoute = (typeof TRAIN_CHANNEL_ROUTES)[number];

export const EXTRACT_CHANNEL_EXPLAINED: Record<ExtractChannelRoute, string> = {
  'per-channel':
    'an RGB model as it is, no training: each channel as grey through the model, the features side by side (C × its width; C× the time)',
  channels: 'a model of this panel (trained with embed or inflate) takes the C channels at once: features of its own width, one pass',
};

export const TRAIN_CHANNEL_EXPLAINED: Record<TrainChannelRoute, string> = {
  embed:
    "a patch embedding of the C channels' own: a new model from random weights (no foundation model needed; learns slowly), or a model of this panel continued",
  inflate:
    "an RGB foundation model's patch embedding widened to the C channels (each starts as grey), then pretrained further on the panel",
};

/** The training route a new run on a panel takes by default: inflate when it starts from a model, else embed. */
export const defaultTrainChannelRoute = (startsFromModel: boolean): TrainChannelRoute => (startsFromModel ? 'inflate' : 'embed');
