import { describe, expect, it } from 'vitest';
import type { TrainStepInfo } from '../../common/api.js';
import { StepThrottle } from './step-throttle.js';

const step = (n: number, extra: Partial<TrainStepInfo> = {}): TrainStepInfo => ({
  run: 'r',
  jobId: 'j',
  step: n,
  total: 1000,
  losses: { total: 5 },
  lr: 1e-3,
  teacherTemp: 0.04,
  imagesPerSec: 100,
  etaSeconds: null,
  signals: { teacherEntropy: 1, nan: false },
  ...extra,
});

describe('StepThrottle', () => {
  it('passes one step an interval, every health and non-finite step, and the newest on flush', () => {
    let t = 0;
    const out: number[] = [];
    const throttle = new StepThrottle(
      (s) => out.push(s.step),
      100,
      () => t,
    );
    // 300 steps a second for one second: health every 50 steps, a NaN at step 123.
    for (let n = 1; n <= 300; n++) {
      t = n * (1000 / 300);
      throttle.push(
        step(n, {
          ...(n % 50 === 0 ? { health: { locality: 0.5, clsPatchCosine: 0.3 } } : {}),
          ...(n === 123 ? { signals: { teacherEntropy: 1, nan: true } } : {}),
        }),
      );
    }
    throttle.flush();
    for (const h of [50, 100, 150, 200, 250, 300]) expect(out).toContain(h);
    expect(out).toContain(123);
    expect(out.at(-1)).toBe(300);
    expect(out.length).toBeLessThan(25); // ≤ 10 a second, plus the 7 kept ones
    for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThan(out[i - 1]);
  });
});
