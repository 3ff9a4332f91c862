// The time estimate's words: durations rounded for a person, a step budget as time, a minutes budget as
// steps, and the states before a figure exists.
import { describe, expect, it } from 'vitest';
import { formatDuration, formatStepTime, timingText } from './timing.js';

describe('timing text', () => {
  it('rounds durations and step times', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(40.4)).toBe('40 s');
    expect(formatDuration(725)).toBe('12 min');
    expect(formatDuration(7080)).toBe('1 h 58 min');
    expect(formatDuration(7200)).toBe('2 h');
    expect(formatStepTime(7.14)).toBe('7.1 s');
    expect(formatStepTime(0.35)).toBe('0.35 s');
    expect(formatStepTime(0.012)).toBe('12 ms');
  });

  it('says the time of a step budget and the steps of a minutes budget', () => {
    const t = { state: 'measured' as const, secondsPerStep: 7.1, startupSeconds: 30, steps: 1000, totalSeconds: 30 + 999 * 7.1 };
    expect(timingText(t, 'steps', 10)).toBe('About 1 h 59 min on this computer (7.1 s a step, measured here; 30 s to start).');
    expect(timingText({ ...t, steps: 85, totalSeconds: 630 }, 'minutes', 10)).toBe(
      'About 85 steps in 10 min on this computer (7.1 s a step, measured here; 30 s to start).',
    );
    expect(timingText({ state: 'measuring' }, 'steps', 10)).toMatch(/^Timing one step/);
    expect(timingText({ state: 'busy', message: 'A run is training now.' }, 'steps', 10)).toBe('A run is training now.');
    expect(timingText({ state: 'failed', message: 'no images' }, 'steps', 10)).toBe('No time estimate: no images.');
    expect(timingText(undefined, 'steps', 10)).toBeNull();
  });
});
