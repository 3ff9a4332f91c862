import { describe, expect, it } from 'vitest';
import {
  GRAM_STAGE_REFRESH,
  HIGHRES_REFRESH,
  gramRefreshCount,
  gramStageWeights,
  gramWeight,
  highResWeights,
  shouldRefreshGramTeacher,
} from './schedule.js';

describe('Gram weight schedule', () => {
  it('ramps in by cosine from 0 to 2.0 over the ramp, then stays', () => {
    const s = gramStageWeights(100);
    expect(gramWeight(s, 0)).toBe(0);
    expect(gramWeight(s, 50)).toBeCloseTo(1.0, 12);
    expect(gramWeight(s, 25)).toBeCloseTo((2 * (1 - Math.SQRT1_2)) / 2, 12);
    expect(gramWeight(s, 100)).toBe(2);
    expect(gramWeight(s, 10_000)).toBe(2);
    for (let t = 1; t <= 100; t++) expect(gramWeight(s, t)).toBeGreaterThan(gramWeight(s, t - 1));
  });
  it('respects a start step and a zero-length ramp', () => {
    const s = gramStageWeights(10, 2, 1000);
    expect(gramWeight(s, 999)).toBe(0);
    expect(gramWeight(s, 1005)).toBeCloseTo(1, 12);
    expect(gramWeight(gramStageWeights(0), 0)).toBe(2);
  });
  it('is a constant 1.5 in high-resolution adaptation', () => {
    const s = highResWeights();
    expect([0, 1, 1e6].map((t) => gramWeight(s, t))).toEqual([1.5, 1.5, 1.5]);
  });
});

describe('Gram teacher refresh rule', () => {
  it('refreshes every 10k steps, at most 3 times, in the Gram stage', () => {
    const steps = [];
    for (let t = 0; t <= 100_000; t++) if (shouldRefreshGramTeacher(GRAM_STAGE_REFRESH, t)) steps.push(t);
    expect(steps).toEqual([10_000, 20_000, 30_000]);
    expect(gramRefreshCount(GRAM_STAGE_REFRESH, 9_999)).toBe(0);
    expect(gramRefreshCount(GRAM_STAGE_REFRESH, 25_000)).toBe(2);
    expect(gramRefreshCount(GRAM_STAGE_REFRESH, 1e7)).toBe(3);
  });
  it('counts from the stage start and never refreshes in high-res adaptation', () => {
    const rule = { every: 5, maxRefreshes: 2, startStep: 100 };
    const steps = [];
    for (let t = 0; t < 200; t++) if (shouldRefreshGramTeacher(rule, t)) steps.push(t);
    expect(steps).toEqual([105, 110]);
    for (let t = 0; t < 50_000; t += 7) expect(shouldRefreshGramTeacher(HIGHRES_REFRESH, t)).toBe(false);
  });
});
