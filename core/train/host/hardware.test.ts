// The provider probe on this host: cpu is always available and selected when nothing else is.
import { describe, expect, it } from 'vitest';
import { TRAIN_PROVIDERS, trainHardware } from './hardware.js';

describe('trainHardware', () => {
  it('lists the preference order with cpu available and selects the first available', async () => {
    const hw = await trainHardware();
    expect(hw.providers.map((p) => p.name)).toEqual([...TRAIN_PROVIDERS]);
    expect(hw.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    expect(hw.selected).toBe(hw.providers.find((p) => p.available)?.name);
    for (const p of hw.providers) if (!p.available) expect(p.note).toBeTruthy();
    expect(hw.cpuThreads).toBeGreaterThan(0);
    expect(await trainHardware()).toBe(hw);
  }, 30_000);
});
