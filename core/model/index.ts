// Public API of core/model (the ViT backbones). See config.ts, params.ts, vit.ts, inference.ts.
export * from './config.js';
export * from './params.js';
export { buildViT, declareParams, constantParams, type ViTBuildOptions, type ViTOutputs, type ViTParams } from './vit.js';
export { inferenceGraph, type InferenceGraph, type InferenceGraphOptions, type InferenceOutput } from './inference.js';
export { ropePeriods, ropeCoords, ropeTables, sampleRopeAug, type RopeAug } from './rope.js';
export { posEmbedPlan } from './pos-embed.js';
