// The demo's bar in proportion to time: at a constant rate of bar per second (what the job's ETA assumes),
// each phase ends when its expected seconds have passed, whatever the training budget.
import { describe, expect, it } from 'vitest';
import { demoPhases } from './phases.js';

describe('demoPhases', () => {
  it('gives each phase a share in proportion to its expected seconds', () => {
    for (const minutes of [1, 3, 5]) {
      const p = demoPhases(minutes);
      const total = 40 + 10 + 30 + 60 * minutes + 70;
      expect(p.generating[0]).toBe(0);
      expect(p.extracting[1]).toBe(1);
      expect(p.importing[0]).toBe(p.generating[1]);
      expect(p.training[0]).toBe(p.importing[1]);
      expect(p.extracting[0]).toBe(p.training[1]);
      expect(p.training[1] - p.training[0]).toBeCloseTo((30 + 60 * minutes) / total, 9);
      // During training the bar moves (training share) / (training seconds) per second; the extraction's
      // share at that rate is its own 70 s: an ETA taken during training is right for what follows.
      const rate = (p.training[1] - p.training[0]) / (30 + 60 * minutes);
      expect((p.extracting[1] - p.extracting[0]) / rate).toBeCloseTo(70, 6);
    }
    expect(demoPhases(5).training[1] - demoPhases(5).training[0]).toBeGreaterThan(demoPhases(1).training[1] - demoPhases(1).training[0]);
  });
});
