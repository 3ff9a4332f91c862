// The Quick preset is sized for minutes on a CPU (config.ts, README.md "Eight minutes by the clock"): 6 blocks,
// B 16, K 1024 with a 64-wide bottleneck, no layer-wise lr decay. Continued pretraining from a foundation
// model and distillation keep the recipe's layer-wise decay and patch-embedding lr, and a Quick run saved
// before the preset set its depth resumes with the depth it was trained at.
import { describe, expect, it } from 'vitest';
import { completeConfig, scratchViT, trainConfig, type TrainConfig } from './config.js';
import { distilConfig } from './distill/config.js';
import { trainPresets } from './host/presets.js';

describe('the Quick preset', () => {
  it('trains a 6-block ViT-Tiny at B 16 with K 1024, and says so in the panel', () => {
    const c = trainConfig('quick');
    const v = scratchViT(c);
    expect([v.dim, v.depth, v.heads, v.registers, v.patchSize]).toEqual([192, 6, 3, 4, 16]);
    expect([c.batchSize, c.head.prototypes, c.head.bottleneck, c.optim.layerDecay, c.optim.patchEmbedLrMult]).toEqual([16, 1024, 64, 1, 1]);
    const info = trainPresets().find((p) => p.name === 'quick')!;
    expect(info.settings).toMatchObject({ size: 'tiny', depth: 6, batchSize: 16, prototypes: 1024 });
    expect(info.description).toContain('6 blocks');
    // CAPI keeps the whole ViT-Tiny it was measured with.
    expect(scratchViT(trainConfig('capi')).depth).toBe(12);
  });

  it('continued pretraining and distillation keep the recipe’s layer-wise lr decay and patch-embedding lr', () => {
    const c = trainConfig('quick', { model: { from: 'model.safetensors' } });
    expect([c.optim.layerDecay, c.optim.patchEmbedLrMult, c.optim.baseLr]).toEqual([0.9, 0.2, 0.001]);
    const d = distilConfig('quick');
    expect([d.optim.layerDecay, d.optim.patchEmbedLrMult]).toEqual([0.9, 0.2]);
    const own = distilConfig('quick', { optim: { layerDecay: 0.75 } });
    expect([own.optim.layerDecay, own.optim.patchEmbedLrMult]).toEqual([0.75, 0.2]);
  });

  it('a Quick config saved before the preset set its depth resumes at the depth it was trained at', () => {
    const saved = structuredClone(trainConfig('quick')) as TrainConfig;
    const { depth, ...vit } = saved.model.vit as Record<string, unknown>;
    expect(depth).toBe(6);
    const old = { ...saved, model: { ...saved.model, vit } } as TrainConfig;
    expect(scratchViT(completeConfig(old)).depth).toBe(12);
    expect(scratchViT(completeConfig(saved)).depth).toBe(6);
    // A depth the user chose is kept.
    const own = { ...saved, model: { ...saved.model, vit: { ...vit, depth: 3 } } } as TrainConfig;
    expect(scratchViT(completeConfig(own)).depth).toBe(3);
  });
});
