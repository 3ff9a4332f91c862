// The setup form → TrainStartOptions: only the advanced fields that differ from the preset become
// overrides (nested as core/train/config.ts keys), extra JSON merges over them, bad JSON is a sentence.
import { describe, expect, it } from 'vitest';
import type { TrainPresetInfo } from '../../../../core/common/api.js';
import { QUICK_PRESET } from './presets.fixture.js';
import { advancedFromPreset, advancedProblems, parseExtra, startOptions, type TrainForm } from './settings.js';

const quick = QUICK_PRESET;

const form = (patch: Partial<TrainForm> = {}): TrainForm => ({
  stage: 'pretrain',
  preset: 'quick',
  from: null,
  budget: 'steps',
  steps: 8,
  minutes: 1,
  advanced: advancedFromPreset(quick),
  extra: '',
  name: '',
  tiles: null,
  ...patch,
});

describe('setup form → start options', () => {
  it('sends no overrides for an untouched preset, and the budget it was given', () => {
    expect(startOptions(form(), quick)).toEqual({ stage: 'pretrain', preset: 'quick', from: null, steps: 8 });
    expect(startOptions(form({ budget: 'minutes', minutes: 2.5, name: ' r1 ' }), quick)).toEqual({
      stage: 'pretrain',
      preset: 'quick',
      from: null,
      minutes: 2.5,
      name: 'r1',
    });
  });

  it('samples from a chosen curated set (data.tiles), under the extra JSON', () => {
    expect(startOptions(form({ tiles: 'curated' }), quick).overrides).toEqual({ data: { tiles: 'curated' } });
    expect(startOptions(form({ tiles: 'a', extra: '{"data": {"tiles": "b", "level": 1}}' }), quick).overrides).toEqual({
      data: { tiles: 'b', level: 1 },
    });
  });

  it('nests changed fields as config keys and merges the extra JSON over them', () => {
    const adv = { ...advancedFromPreset(quick), batchSize: 2, globalSize: 32, localCrops: 2, registers: 2, seed: 7 };
    const o = startOptions(form({ advanced: adv, extra: '{"crops": {"localSize": 16}, "model": {"vit": {"dim": 32}}}' }), quick);
    expect(o.overrides).toEqual({
      batchSize: 2,
      crops: { globalSize: 32, localCrops: 2, localSize: 16 },
      model: { vit: { registers: 2, dim: 32 } },
      seed: 7,
    });
    // Registers come from the model a run starts from.
    expect(startOptions(form({ advanced: adv, from: 'm1' }), quick).overrides).toEqual({
      batchSize: 2,
      crops: { globalSize: 32, localCrops: 2 },
      seed: 7,
    });
  });

  it("sends a CAPI preset's cluster count as capi.prototypes (the DINO head is not part of a CAPI run)", () => {
    const capi: TrainPresetInfo = {
      ...quick,
      name: 'capi',
      objective: 'capi',
      settings: { ...quick.settings, depth: 12, batchSize: 32, localCrops: 0, prototypes: 4096 },
    };
    const adv = { ...advancedFromPreset(capi), prototypes: 1024 };
    expect(startOptions(form({ preset: 'capi', advanced: adv }), capi).overrides).toEqual({ capi: { prototypes: 1024 } });
  });

  it("defaults a run from a model to continued pretraining's lr and crops fitted to its patch size", () => {
    const dino14 = { patchSize: 14 };
    const q: TrainPresetInfo = { ...quick, settings: { ...quick.settings, continuedBaseLr: 0.001 } };
    expect(advancedFromPreset(q, dino14)).toMatchObject({ baseLr: 0.001, globalSize: 112, localSize: 42 });
    // Those defaults are not overrides: the host applies the same (core/train/route.ts, config.ts).
    const f = form({ from: 'dino14', advanced: advancedFromPreset(q, dino14) });
    expect(startOptions(f, q, dino14)).toEqual({ stage: 'pretrain', preset: 'quick', from: 'dino14', steps: 8 });
    // The preset's from-scratch lr with a model is a change the user made, and is sent.
    const lr = form({ from: 'dino14', advanced: { ...advancedFromPreset(q, dino14), baseLr: 0.004 } });
    expect(startOptions(lr, q, dino14).overrides).toEqual({ optim: { baseLr: 0.004 } });
  });

  it('refuses bad extra JSON and impossible fields with sentences', () => {
    expect(() => parseExtra('{nope')).toThrow(/not valid JSON/);
    expect(() => parseExtra('[1]')).toThrow(/must be a JSON object/);
    expect(advancedProblems({ ...advancedFromPreset(quick), batchSize: 0, baseLr: 0, seed: 1.5 })).toEqual([
      'Batch size must be a whole number ≥ 1',
      'Base lr must be positive',
      'Seed must be a whole number',
    ]);
  });
});
