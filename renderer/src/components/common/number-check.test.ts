import { describe, expect, it } from 'vitest';
import { numberProblem } from './number-check.js';

describe('a number in a NumberField', () => {
  it('says in plain words what is wrong: missing, not whole, out of range; nothing when it is fine', () => {
    expect(numberProblem(null, { min: 1 }, 'Steps')).toBe('Steps needs a number.');
    expect(numberProblem(undefined, {}, 'Steps')).toBe('Steps needs a number.');
    expect(numberProblem(Number.NaN, {}, 'Steps')).toBe('Steps needs a number.');
    expect(numberProblem(2.5, { min: 1, whole: true }, 'Steps')).toBe('Steps must be a whole number.');
    expect(numberProblem(0, { min: 1, whole: true }, 'Steps')).toBe('Steps must be at least 1.');
    expect(numberProblem(65, { min: 1, max: 64, whole: true }, 'Pixels per patch')).toBe('Pixels per patch must be from 1 to 64.');
    expect(numberProblem(0, { min: 1, max: 64 }, 'Pixels per patch')).toBe('Pixels per patch must be from 1 to 64.');
    expect(numberProblem(9, { max: 8 }, 'Blocks')).toBe('Blocks must be at most 8.');
    expect(numberProblem(2.5, { min: 1 }, 'Rate')).toBeNull();
    expect(numberProblem(200, { min: 1, whole: true }, 'Steps')).toBeNull();
    expect(numberProblem(64, { min: 1, max: 64, whole: true }, 'Pixels per patch')).toBeNull();
  });
});
