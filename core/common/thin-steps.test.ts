import { describe, expect, it } from 'vitest';
import { thinSteps, type ThinnableStep } from './thin-steps.js';

function run(n: number, total: (i: number) => number = (i) => 5 + Math.sin(i / 7)): ThinnableStep[] {
  return Array.from({ length: n }, (_, i) => ({ step: i + 1, losses: { total: total(i) } }));
}

describe('thinSteps', () => {
  it('returns a short run whole (a copy)', () => {
    const s = run(50);
    const t = thinSteps(s, 100);
    expect(t).toEqual(s);
    expect(t).not.toBe(s);
  });

  it('keeps at most the budget, in step order, with the first and last steps', () => {
    const s = run(30_000);
    const t = thinSteps(s, 2000);
    expect(t.length).toBeLessThanOrEqual(2000);
    expect(t.length).toBeGreaterThan(1900);
    expect(t[0].step).toBe(1);
    expect(t[t.length - 1].step).toBe(30_000);
    for (let i = 1; i < t.length; i++) expect(t[i].step).toBeGreaterThan(t[i - 1].step);
  });

  it('keeps one-step spikes up and down through repeated thinning', () => {
    const s = run(40_000, (i) => (i === 12_345 ? 40 : i === 23_456 ? -3 : 5 + 0.01 * Math.sin(i)));
    let t = s;
    for (let k = 0; k < 5; k++) t = thinSteps([...t, ...run(3000).map((x) => ({ ...x, step: x.step + 40_000 + k * 3000 }))], 2000);
    expect(t.some((x) => x.step === 12_346 && x.losses.total === 40)).toBe(true);
    expect(t.some((x) => x.step === 23_457 && x.losses.total === -3)).toBe(true);
    expect(t.length).toBeLessThanOrEqual(2000);
  });

  it('always keeps health steps and non-finite steps', () => {
    const s = run(20_000).map((x, i) => ({
      ...x,
      ...(i % 500 === 0 ? { health: { locality: 0.5 } } : {}),
      ...(i === 777 ? { losses: { total: NaN }, signals: { nan: true } } : {}),
    }));
    const t = thinSteps(s, 1000);
    expect(t.filter((x) => x.health).length).toBe(40);
    expect(t.some((x) => x.step === 778 && Number.isNaN(x.losses.total))).toBe(true);
  });
});
