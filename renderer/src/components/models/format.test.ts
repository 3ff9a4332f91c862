// How a model's size reads in the Models panel and the model pickers: named sizes by their letter, a named
// size's width at another depth (the Quick preset's 6-block ViT-Tiny, which the core calls 'custom') with its
// depth, anything else as width × depth.
import { describe, expect, it } from 'vitest';
import { describeModel, pickerLabel, sizeLabel } from './format.js';

const quick = { name: 'quick-0412', arch: 'dinov2', size: 'custom', patchSize: 16, dim: 192, depth: 6, location: 'project' } as const;

describe('model size labels', () => {
  it('name a standard size by its letter', () => {
    expect(sizeLabel({ size: 'small', patchSize: 14, dim: 384, depth: 12 })).toBe('ViT-S/14');
  });

  it('give the depth of a named width trained with fewer blocks, and width × depth otherwise', () => {
    expect(sizeLabel(quick)).toBe('ViT-Ti/16 · 6 blocks');
    expect(sizeLabel({ size: 'custom', patchSize: 16, dim: 48, depth: 1 })).toBe('ViT 48×1/16');
  });

  it('read the same in the Models panel and in the pickers', () => {
    expect(describeModel({ ...quick, registers: 4, ffn: 'mlp' })).toBe('DINOv2 · ViT-Ti/16 · 6 blocks · 4 registers');
    expect(pickerLabel(quick)).toBe('quick-0412 (DINOv2 ViT-Ti/16 · 6 blocks, project)');
    expect(pickerLabel({ ...quick, arch: 'dinov3', size: 'base', dim: 768, depth: 12, location: 'user' })).toBe(
      'quick-0412 (DINOv3 ViT-B/16, user)',
    );
  });
});
