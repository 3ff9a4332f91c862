// The Train panel's words for a run's training tiles: the setup form's own words for uniform sampling, the
// curated set by its name.
import { describe, expect, it } from 'vitest';
import { presetSummary, trainingTilesLabel } from './format.js';
import { QUICK_PRESET } from './presets.fixture.js';

describe('training tiles label', () => {
  it('names uniform sampling as the form does and a curated set by its name', () => {
    expect(trainingTilesLabel('uniform')).toBe('All tissue, uniformly');
    expect(trainingTilesLabel('curated:curated')).toBe('Curated set “curated”');
    expect(trainingTilesLabel('curated:rare-2026')).toBe('Curated set “rare-2026”');
  });
});

describe('preset summary', () => {
  it('gives the depth beside the size, since a preset may train fewer blocks than its size has', () => {
    expect(presetSummary(QUICK_PRESET)).toBe('ViT-tiny/16 · 6 blocks · 4 registers · 112 px + 6 × 48 px · batch 16 · K 1024 · 1,000 steps');
  });
});
