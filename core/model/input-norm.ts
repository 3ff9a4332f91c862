// What the backbone's 'images' input holds: pixels in [0, 1] normalised per channel, (v − mean) / std.
// RGB models see the ImageNet statistics they were trained with. A C-channel model (fluorescence: one
// input per channel of the file, each already scaled to [0, 1] by core/data/channel-scaling.ts) sees every
// channel normalised with the same grey statistics, the mean of the ImageNet ones: no channel of a panel is
// "red" or "blue", and a grey image replicated to RGB and to C channels gets the same centring and scale.
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** 0.449: the mean of the ImageNet channel means. */
export const CHANNEL_MEAN = (IMAGENET_MEAN[0] + IMAGENET_MEAN[1] + IMAGENET_MEAN[2]) / 3;
/** 0.226: the mean of the ImageNet channel standard deviations. */
export const CHANNEL_STD = (IMAGENET_STD[0] + IMAGENET_STD[1] + IMAGENET_STD[2]) / 3;
