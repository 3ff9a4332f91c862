// The end-of-run rise is recognised in the last part of a run that climbs clearly above its low since
// mid-run; not in a falling run, not early, not for a single noisy step.
import { describe, expect, it } from 'vitest';
import type { TrainStepInfo } from '../../../../core/common/api.js';
import { endOfRunRise } from './loss-rise.js';

const run = (losses: number[]): TrainStepInfo[] =>
  losses.map(
    (total, i) =>
      ({
        run: 'r',
        jobId: 'j',
        step: i + 1,
        total: losses.length,
        losses: { total, dino: total, ibot: 0, koleo: 0 },
        lr: 1e-4,
        teacherTemp: 0.04,
        imagesPerSec: 1,
        etaSeconds: null,
        signals: {},
      }) as TrainStepInfo,
  );

/** 100 steps falling from 8 to 4.5 by step 70, then climbing to 6.5 (the README's shape). */
const rising = Array.from({ length: 100 }, (_, i) => (i < 70 ? 8 - (3.5 * i) / 69 : 4.5 + (2 * (i - 69)) / 30));

describe('endOfRunRise', () => {
  it('finds the climb over the last part of a run', () => {
    const r = endOfRunRise(run(rising), 100);
    expect(r).not.toBeNull();
    expect(r!.lowStep).toBeGreaterThanOrEqual(68);
    expect(r!.lowStep).toBeLessThanOrEqual(74);
    expect(r!.now).toBeGreaterThan(6);
  });

  it('says nothing before the last part, for a falling loss, or for one noisy step', () => {
    expect(endOfRunRise(run(rising).slice(0, 65), 100)).toBeNull();
    expect(endOfRunRise(run(Array.from({ length: 100 }, (_, i) => 8 - 0.03 * i)), 100)).toBeNull();
    const noisy = Array.from({ length: 100 }, (_, i) => 8 - 0.03 * i);
    noisy[99] = 9;
    expect(endOfRunRise(run(noisy), 100)).toBeNull();
    expect(endOfRunRise(run([5, 6, 7]), 3)).toBeNull();
  });
});
