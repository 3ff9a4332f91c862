// Schedules against the formulas of recipe §5 / dinov2's CosineScheduler, and the strict config.
import { describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { completeConfig, trainConfig } from './config.js';
import { cosineAt, scaledLr, scheduleAt, startMomentum } from './schedule.js';

describe('schedules', () => {
  it('CosineScheduler: freeze zeros, np.linspace warmup (endpoints included), cosine, final after total', () => {
    const s = { base: 1, final: 0.1, total: 20, warmup: 5, start: 0, freeze: 2 };
    expect(cosineAt(s, 0)).toBe(0);
    expect(cosineAt(s, 1)).toBe(0);
    expect(cosineAt(s, 2)).toBe(0); // linspace(0, 1, 5)[0]
    expect(cosineAt(s, 4)).toBeCloseTo(0.5, 12); // linspace(0, 1, 5)[2]
    expect(cosineAt(s, 6)).toBeCloseTo(1, 12); // last warmup value = base
    expect(cosineAt(s, 7)).toBeCloseTo(1, 12); // cosine starts at base
    const n = 20 - 7;
    for (let it = 7; it < 20; it++) expect(cosineAt(s, it)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos((Math.PI * (it - 7)) / n)), 12);
    expect(cosineAt(s, 20)).toBe(0.1);
    expect(cosineAt(s, 1000)).toBe(0.1);
  });

  it('lr = base·√(B/1024) with warmup then cosine to min_lr; wd cosine 0.04 → 0.4; τ_t 0.04 → 0.07; momentum 0.992 → 1; last layer frozen', () => {
    const c = trainConfig('standard', { steps: 1000, batchSize: 64 }); // the recipe's schedules (quick deviates: see below)
    const peak = 0.004 * Math.sqrt(64 / 1024);
    expect(scaledLr(0.004, 64)).toBeCloseTo(peak, 15);
    expect(scheduleAt(c, 0).lr).toBe(0);
    expect(scheduleAt(c, 99).lr).toBeCloseTo(peak, 12); // warmup = 100 steps
    expect(scheduleAt(c, 50).lr).toBeCloseTo((peak * 50) / 99, 12);
    expect(scheduleAt(c, 550).lr).toBeCloseTo(1e-6 + 0.5 * (peak - 1e-6) * (1 + Math.cos((Math.PI * 450) / 900)), 12);
    expect(scheduleAt(c, 0).wd).toBeCloseTo(0.04, 12);
    expect(scheduleAt(c, 500).wd).toBeCloseTo(0.4 + 0.5 * (0.04 - 0.4) * (1 + Math.cos(Math.PI * 0.5)), 12);
    expect(scheduleAt(c, 999).wd).toBeCloseTo(0.4, 4);
    expect(scheduleAt(c, 0).teacherTemp).toBeCloseTo(0.04, 12);
    expect(scheduleAt(c, 299).teacherTemp).toBeCloseTo(0.07, 12); // 300 warmup steps, linspace endpoint
    expect(scheduleAt(c, 150).teacherTemp).toBeCloseTo(0.04 + (0.03 * 150) / 299, 12);
    expect(scheduleAt(c, 700).teacherTemp).toBe(0.07);
    for (const it of [0, 250, 500, 999])
      expect(scheduleAt(c, it).momentum).toBeCloseTo(1 + 0.5 * (0.992 - 1) * (1 + Math.cos((Math.PI * it) / 1000)), 12);
    expect(scheduleAt(c, 9).lastLayerLr).toBe(0); // 1 % of 1000 steps frozen
    expect(scheduleAt(c, 10).lastLayerLr).toBe(scheduleAt(c, 10).lr);
  });
});

describe('short-run teacher momentum (teacher.momentumHorizon)', () => {
  it('m₀ = min(momentum, 1 − 1/(f·T)); off (0) keeps the reference 0.992; the cosine to 1 starts there', () => {
    const at = (steps: number, f: number): number => startMomentum(trainConfig('standard', { steps, teacher: { momentumHorizon: f } }));
    expect(at(100, 0)).toBe(0.992);
    expect(at(100, 0.1)).toBeCloseTo(0.9, 12);
    expect(at(1000, 0.1)).toBeCloseTo(0.99, 12);
    expect(at(1250, 0.1)).toBeCloseTo(0.992, 12);
    expect(at(100_000, 0.1)).toBe(0.992);
    expect(at(5, 0.1)).toBe(0); // a horizon under one step: the teacher follows the student
    const c = trainConfig('standard', { steps: 100, teacher: { momentumHorizon: 0.1 } });
    for (const it of [0, 30, 99])
      expect(scheduleAt(c, it).momentum).toBeCloseTo(1 + 0.5 * (0.9 - 1) * (1 + Math.cos((Math.PI * it) / 100)), 12);
  });

  it('quick preset: τ_t 0.04 throughout, m₀ by the 0.1 horizon, LayerScale init 1 (config.ts); standard keeps the recipe', () => {
    const q = trainConfig('quick', { steps: 100 });
    for (const it of [0, 29, 50, 99]) expect(scheduleAt(q, it).teacherTemp).toBe(0.04);
    expect(scheduleAt(q, 0).momentum).toBeCloseTo(0.9, 12);
    expect(scheduleAt(trainConfig('quick', { steps: 2000 }), 0).momentum).toBe(0.992);
    expect(q.model.vit.layerScale).toEqual({ init: 1 });
    const s = trainConfig('standard', { steps: 100 });
    expect([s.teacher.temp, s.teacher.momentumHorizon, s.model.vit.layerScale]).toEqual([0.07, 0, undefined]);
  });

  it('a checkpoint config saved before the key existed resumes with it off (its original schedule)', () => {
    const saved = trainConfig('quick', { steps: 100 });
    const old = { ...saved, teacher: { ...saved.teacher } } as Record<string, unknown> & { teacher: Record<string, unknown> };
    delete old.teacher.momentumHorizon;
    expect(completeConfig(old as unknown as typeof saved).teacher.momentumHorizon).toBe(0);
    expect(completeConfig(saved).teacher.momentumHorizon).toBe(saved.teacher.momentumHorizon);
  });
});

describe('training config', () => {
  it('presets: quick = ViT-Tiny/16 reg4 112 px, standard = ViT-S/16 reg4 224 px', () => {
    const q = trainConfig('quick');
    expect([q.model.size, q.model.vit.patchSize, q.model.vit.registers, q.crops.globalSize]).toEqual(['tiny', 16, 4, 112]);
    const s = trainConfig('standard');
    expect([s.model.size, s.model.vit.patchSize, s.model.vit.registers, s.crops.globalSize, s.crops.localCrops]).toEqual([
      'small',
      16,
      4,
      224,
      8,
    ]);
  });

  it('rejects unknown keys, wrong types and bad values with BAD_INPUT naming the key', () => {
    const bad = (o: Record<string, unknown>): string => {
      try {
        trainConfig('quick', o);
      } catch (e) {
        expect(e).toBeInstanceOf(DinoscopeError);
        return (e as DinoscopeError).message;
      }
      throw new Error('no error');
    };
    expect(bad({ optim: { baseLR: 1 } })).toMatch(/unknown key optim\.baseLR/);
    expect(bad({ nonsense: 1 })).toMatch(/unknown key nonsense/);
    expect(bad({ steps: '10' })).toMatch(/steps must be a number/);
    expect(bad({ batchSize: 1 })).toMatch(/batchSize/);
    expect(bad({ crops: { globalSize: 100 } })).toMatch(/not a multiple of the patch size 16/);
    expect(bad({ model: { vit: { depthh: 2 } } })).toMatch(/unknown key depthh/);
  });
});
