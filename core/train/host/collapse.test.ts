// The collapse thresholds on synthetic signal sequences: healthy runs, brief dips and warm-up never alert;
// sustained low entropy, uniform entropy or rank 1 alert once per streak.
import { describe, expect, it } from 'vitest';
import { COLLAPSE_THRESHOLDS, CollapseDetector, warmupSteps } from './collapse.js';

const K = 4096;
const lnK = Math.log(K);

function feed(d: CollapseDetector, seq: { teacherEntropy: number; featureRank: number }[], from = 1): { step: number; message: string }[] {
  const out: { step: number; message: string }[] = [];
  seq.forEach((s, i) => {
    const m = d.observe(from + i, s);
    if (m) out.push({ step: from + i, message: m });
  });
  return out;
}

const healthy = (n: number): { teacherEntropy: number; featureRank: number }[] =>
  Array.from({ length: n }, (_, i) => ({ teacherEntropy: 2 + Math.sin(i), featureRank: 20 + 5 * Math.cos(i) }));

describe('CollapseDetector', () => {
  it('never alerts on a healthy run', () => {
    expect(feed(new CollapseDetector(K, 10), healthy(500))).toEqual([]);
  });

  it('alerts once sustained low entropy lasts `sustain` steps after warm-up, naming the sign', () => {
    const seq = [...healthy(50), ...Array.from({ length: 45 }, () => ({ teacherEntropy: 0.01, featureRank: 5 }))];
    const alerts = feed(new CollapseDetector(K, 10), seq);
    // Steps 51..70 are the first streak of 20, 71..90 the second.
    expect(alerts.map((a) => a.step)).toEqual([70, 90]);
    expect(alerts[0].message).toMatch(/near 0/);
  });

  it('alerts on uniform targets with shrinking feature diversity, and on rank ≤ 1.5', () => {
    const uniform = feed(
      new CollapseDetector(K, 0, {}, 31),
      Array.from({ length: 20 }, () => ({ teacherEntropy: 0.99 * lnK, featureRank: 10 })),
    );
    expect(uniform).toHaveLength(1);
    expect(uniform[0].message).toMatch(/near ln K/);
    // Uniform targets while the CLS features stay diverse (a small model early on): no alert.
    expect(
      feed(
        new CollapseDetector(K, 0, {}, 31),
        Array.from({ length: 40 }, () => ({ teacherEntropy: 0.99 * lnK, featureRank: 25 })),
      ),
    ).toEqual([]);
    const rank = feed(
      new CollapseDetector(K, 0),
      Array.from({ length: 20 }, () => ({ teacherEntropy: 3, featureRank: 1.2 })),
    );
    expect(rank).toHaveLength(1);
    expect(rank[0].message).toMatch(/feature rank 1\.20/);
  });

  it('ignores dips shorter than `sustain` and everything inside warm-up', () => {
    const dips: { teacherEntropy: number; featureRank: number }[] = [];
    for (let r = 0; r < 10; r++)
      dips.push(
        ...Array.from({ length: COLLAPSE_THRESHOLDS.sustain - 1 }, () => ({ teacherEntropy: 0.001, featureRank: 1 })),
        ...healthy(1),
      );
    expect(feed(new CollapseDetector(K, 0), dips)).toEqual([]);
    const warm = warmupSteps(1000, 0.1, 0.3);
    expect(warm).toBe(300);
    expect(
      feed(
        new CollapseDetector(K, warm),
        Array.from({ length: 300 }, () => ({ teacherEntropy: 0, featureRank: 1 })),
      ),
    ).toEqual([]);
  });

  it('takes other thresholds', () => {
    const d = new CollapseDetector(K, 0, { sustain: 3, rank: 2.5 });
    expect(
      feed(
        d,
        Array.from({ length: 3 }, () => ({ teacherEntropy: 3, featureRank: 2 })),
      ).map((a) => a.step),
    ).toEqual([3]);
  });
});
