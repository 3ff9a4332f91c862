// Schedules against the formulas of recipe §5 / dinov2's CosineScheduler, and the strict config.
import { describe, expect, it } from 'vitest';
import { DinoscopeError } from '../common/errors.js';
import { trainConfig } from './config.js';
import { cosineAt, scaledLr, scheduleAt } from './schedule.js';

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
    const c = trainConfig('quick', { steps: 1000, batchSize: 64 });
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
    for (const it of [0, 250, 500, 999]) expect(scheduleAt(c, it).momentum).toBeCloseTo(1 + 0.5 * (0.992 - 1) * (1 + Math.cos((Math.PI * it) / 1000)), 12);
    expect(scheduleAt(c, 9).lastLayerLr).toBe(0); // 1 % of 1000 steps frozen
    expect(scheduleAt(c, 10).lastLayerLr).toBe(scheduleAt(c, 10).lr);
  });
});

describe('training config', () => {
  it('presets: quick = ViT-Tiny/16 reg4 112 px, standard = ViT-S/16 reg4 224 px', () => {
    const q = trainConfig('quick');
    expect([q.model.size, q.model.vit.patchSize, q.model.vit.registers, q.crops.globalSize]).toEqual(['tiny', 16, 4, 112]);
    const s = trainConfig('standard');
    expect([s.model.size, s.model.vit.patchSize, s.model.vit.registers, s.crops.globalSize, s.crops.localCrops]).toEqual(['small', 16, 4, 224, 8]);
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
