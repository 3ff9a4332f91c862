// The one ETA of every job: rate over recent progress, start-up excluded, bursts averaged as a ratio of
// sums, speed changes followed within the window, restarts and pauses forgotten.
import { describe, expect, it } from 'vitest';
import { EtaEstimator } from './eta.js';

describe('EtaEstimator', () => {
  it('leaves the start-up before the first item out of the rate', () => {
    // 20 s of start-up (graph building), then one item a second for 100 items.
    const e = new EtaEstimator();
    e.add(0, 0);
    expect(e.eta(100)).toBeNull();
    for (let i = 1; i <= 10; i++) e.add(20_000 + (i - 1) * 1000, i);
    expect(e.rate()).toBeCloseTo(1, 6);
    expect(e.eta(100)).toBeCloseTo(90, 6);
    // Since the start it would be 10 items in 29 s: an ETA of 261 s, 2.9 × too long.
  });

  it('averages bursts as items over time, not as a mean of per-update rates', () => {
    // Tiles come in batches of 8 reported one by one within 8 ms, a batch every 2 s: 4 items/s.
    const e = new EtaEstimator();
    e.add(0, 0);
    let done = 0;
    for (let b = 0; b < 20; b++) for (let k = 0; k < 8; k++) e.add(1000 + b * 2000 + k, ++done);
    expect(e.rate()).toBeGreaterThan(3.8);
    expect(e.rate()).toBeLessThan(4.2);
    expect(e.eta(400)).toBeGreaterThan((400 - 160) / 4.2);
    expect(e.eta(400)).toBeLessThan((400 - 160) / 3.8);
  });

  it('follows a change of speed within the window', () => {
    const e = new EtaEstimator({ windowMs: 30_000 });
    e.add(0, 0);
    let t = 0;
    let done = 0;
    for (let i = 0; i < 120; i++) e.add((t += 500), ++done); // 2/s for a minute
    for (let i = 0; i < 40; i++) e.add((t += 1000), ++done); // then 1/s for 40 s
    expect(e.rate()).toBeCloseTo(1, 1);
    expect(e.eta(done + 60)).toBeCloseTo(60, -1);
  });

  it('keeps several increments of a slow job in its window', () => {
    // One training step a minute: the window spans the last three steps, not one.
    const e = new EtaEstimator({ windowMs: 30_000, minIncrements: 3 });
    e.add(0, 0);
    const at = [30, 90, 150, 210, 300]; // the last step took 90 s
    at.forEach((s, i) => e.add(s * 1000, i + 1));
    expect(e.rate()).toBeCloseTo(3 / 210, 6); // steps 2 → 5 over 90 + 60 + 60 s
  });

  it('starts over after a restart from an earlier point and after a reset', () => {
    const e = new EtaEstimator();
    e.add(0, 0);
    e.add(1000, 10);
    e.add(2000, 20);
    expect(e.rate()).toBeCloseTo(10);
    e.add(3000, 5); // resumed from a checkpoint at 5
    expect(e.eta(100)).toBeNull();
    e.add(8000, 6); // first step after the restart (start-up again)
    e.add(9000, 8);
    expect(e.rate()).toBeCloseTo(2);
    e.reset();
    e.add(60_000, 8); // a pause of a minute
    e.add(61_000, 9);
    expect(e.eta(100)).toBeNull();
    e.add(62_000, 11);
    expect(e.rate()).toBeCloseTo(2);
    expect(e.eta(11)).toBe(0);
  });
});
