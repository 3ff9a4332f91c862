// The Train panel's words for a run's training tiles: the setup form's own words for uniform sampling, the
// curated set by its name.
import { describe, expect, it } from 'vitest';
import { trainingTilesLabel } from './format.js';

describe('training tiles label', () => {
  it('names uniform sampling as the form does and a curated set by its name', () => {
    expect(trainingTilesLabel('uniform')).toBe('All tissue, uniformly');
    expect(trainingTilesLabel('curated:curated')).toBe('Curated set “curated”');
    expect(trainingTilesLabel('curated:rare-2026')).toBe('Curated set “rare-2026”');
  });
});
