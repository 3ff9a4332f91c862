import { describe, expect, it } from 'vitest';
import type { TrainStepInfo } from '../../../../core/common/api.js';
import { HISTORY_STEPS, MAX_STEPS, StepBuffer } from './step-buffer.js';

const step = (n: number, total = 5 + Math.sin(n / 9)): TrainStepInfo => ({
  run: 'r',
  jobId: 'j',
  step: n,
  total: 10 ** 6,
  losses: { total },
  lr: 1e-3,
  teacherTemp: 0.04,
  imagesPerSec: 100,
  etaSeconds: null,
  signals: { teacherEntropy: 1, nan: false },
});

describe('StepBuffer', () => {
  it('stays bounded over a long live run, keeping its first and latest steps and its spikes', () => {
    const b = new StepBuffer();
    for (let n = 1; n <= 100_000; n++) {
      b.push(step(n, n === 31_337 ? 99 : undefined));
      expect(b.length).toBeLessThan(MAX_STEPS);
    }
    const s = b.snapshot();
    expect(s[0].step).toBe(1);
    expect(s.at(-1)!.step).toBe(100_000);
    expect(s.some((x) => x.step === 31_337 && x.losses.total === 99)).toBe(true);
    for (let i = 1; i < s.length; i++) expect(s[i].step).toBeGreaterThan(s[i - 1].step);
  });

  it('replaces the tail on a resume from a checkpoint', () => {
    const b = new StepBuffer();
    for (let n = 1; n <= 10; n++) b.push(step(n));
    b.push(step(7, 1));
    expect(b.snapshot().map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(b.snapshot().at(-1)!.losses.total).toBe(1);
  });

  it('loads a long history thinned, followed by the newer live steps that came while it loaded', () => {
    const b = new StepBuffer();
    b.push(step(50_001));
    b.push(step(49_000)); // older than the history's end: replaced by the history
    b.push(step(50_002));
    b.load(Array.from({ length: 50_000 }, (_, i) => step(i + 1)));
    const s = b.snapshot();
    expect(s.length).toBeLessThanOrEqual(HISTORY_STEPS + 1);
    expect(s.slice(-2).map((x) => x.step)).toEqual([50_000, 50_002]);
  });
});
