// The loss chart's series: DINO's terms for a DINO run (Gram only when present), CAPI's for a CAPI run.
import { describe, expect, it } from 'vitest';
import type { TrainStepInfo } from '../../../../core/common/api.js';
import { lossSeries } from './series.js';

const step = (n: number, losses: TrainStepInfo['losses']): TrainStepInfo => ({
  run: 'r',
  jobId: 'j',
  step: n,
  total: 2,
  losses,
  lr: 1e-3,
  teacherTemp: 0.06,
  imagesPerSec: 1,
  etaSeconds: null,
  signals: { teacherEntropy: 1, nan: false },
});

describe('loss series', () => {
  it('a DINO run: total, DINO, iBOT and KoLeo (the legend before the first step too)', () => {
    const dino = [step(1, { dino: 8, ibot: 8, koleo: -0.1, total: 16 }), step(2, { dino: 7, ibot: 7, koleo: -0.2, total: 14 })];
    expect(lossSeries(dino).map((s) => [s.key, s.points.length])).toEqual([
      ['total', 2],
      ['dino', 2],
      ['ibot', 2],
      ['koleo', 2],
    ]);
    expect(lossSeries([]).map((s) => s.key)).toEqual(['total', 'dino', 'ibot', 'koleo']);
  });

  it('a CAPI run: total, CAPI and clustering, no empty DINO series', () => {
    const capi = [step(1, { capi: 4.2, clustering: 9.1, total: 13.3 }), step(2, { capi: 4.0, clustering: 9.2, total: 13.2 })];
    const s = lossSeries(capi);
    expect(s.map((x) => [x.key, x.label, x.points.length])).toEqual([
      ['total', 'total', 2],
      ['capi', 'CAPI', 2],
      ['clustering', 'clustering', 2],
    ]);
    expect(s[1].points).toEqual([
      { x: 1, y: 4.2 },
      { x: 2, y: 4.0 },
    ]);
  });
});
