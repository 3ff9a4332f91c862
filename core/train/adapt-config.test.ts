// The strict config of high-resolution adaptation: stage, gram and health sections, the adapt presets, old checkpoint configs
// completed with the new keys, and the per-triple memory estimate `dinoscope adapt` prints.
import { describe, expect, it } from 'vitest';
import { vitConfig } from '../model/config.js';
import { adaptConfig, adaptMemory } from './adapt.js';
import { PRESET_INFO, adaptPresets, completeConfig, gramSide, sizeTable, trainConfig, type TrainConfig } from './config.js';
import { CPU_SIZES } from './gram/sizes.js';

const bad = (f: () => unknown, re: RegExp): void => {
  expect(f).toThrow(re);
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code).toBe('BAD_INPUT');
  }
};

describe('adaptation config', () => {
  it('lists every preset with its stage; the adapt presets need a model and turn Gram on with the recipe §4 values', () => {
    expect(PRESET_INFO.map((p) => `${p.name}:${p.stage}`)).toEqual([
      'quick:pretrain',
      'standard:pretrain',
      'capi:pretrain',
      'adapt-cpu:adapt',
      'adapt-gpu:adapt',
    ]);
    expect(adaptPresets().map((p) => p.name)).toEqual(['adapt-cpu', 'adapt-gpu']);
    bad(() => trainConfig('adapt-cpu'), /stage adapt needs model.from/);
    const c = adaptConfig('/m.safetensors');
    expect(c).toMatchObject({
      stage: 'adapt',
      preset: 'adapt-cpu',
      gram: { enabled: true, teacher: 'start', weight: 1.5, refreshEvery: 0, sizes: 'cpu' },
      loss: { localWeight: 0.5, koleoGroup: 16 },
    });
    expect(sizeTable(c, 16)).toEqual(CPU_SIZES.map((e) => ({ ...e })));
    expect(sizeTable(c, 14)!.every((e) => e.global % 14 === 0 && e.local % 14 === 0 && e.gram % 14 === 0)).toBe(true);
    bad(() => adaptConfig('/m.safetensors', 'quick'), /pretraining preset/);
  });

  it('is strict about the new keys', () => {
    bad(() => trainConfig('quick', { gram: { nope: 1 } }), /unknown key gram.nope/);
    bad(() => trainConfig('quick', { gram: { enabled: true, teacher: 'start' } }), /needs model.from/);
    bad(() => trainConfig('quick', { gram: { sizeTable: [{ global: 32, local: 16, gram: 64, p: 0.4 }] } }), /sum to 0.4/);
    bad(() => trainConfig('quick', { loss: { koleoGroup: 1 } }), /koleoGroup/);
    bad(() => trainConfig('quick', { health: { every: -1 } }), /health.every/);
    bad(() => trainConfig('quick', { stage: 'finetune' }), /stage must be pretrain or adapt/);
    const c = trainConfig('quick', { gram: { enabled: true } });
    expect(sizeTable(c, 16)).toBeNull(); // no table: crops.* and gram.scale
    expect(gramSide(c, 112, 16)).toBe(224);
  });

  it('completes a config saved before stages existed with the defaults', () => {
    const old = structuredClone(trainConfig('quick')) as Partial<TrainConfig>;
    delete old.stage;
    delete old.gram;
    delete old.health;
    const c = completeConfig(old as TrainConfig);
    expect(c.stage).toBe('pretrain');
    expect(c.gram.enabled).toBe(false);
    expect(c.health.every).toBe(100);
  });

  it('estimates memory per size triple, larger for larger crops', () => {
    const c = adaptConfig('/m.safetensors');
    const m = adaptMemory(c, vitConfig('small', { patchSize: 16, registers: 4 }));
    expect(m).toHaveLength(CPU_SIZES.length);
    expect(m[1].bytes).toBeGreaterThan(m[0].bytes); // 320 px globals need more than 224 px
    for (const x of m) expect(x.text).toMatch(/^this needs ~\d/);
    console.log(
      `adapt-cpu, ViT-S/16, B ${c.batchSize}: ${m.map((x) => `${x.sizes.global}/${x.sizes.local}/${x.sizes.gram} ${x.text}`).join('; ')}`,
    );
  });
});
