// The schema builder: what each schema accepts, the field path and words of what it refuses, and that
// checked objects come back frozen.
import { describe, expect, it } from 'vitest';
import { FieldError } from './errors.js';
import { args, array, boolean, nullable, number, object, oneOf, optional, string } from './schema.js';

/** The FieldError message `parse` throws. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(FieldError);
    expect((err as FieldError).code).toBe('BAD_INPUT');
    return (err as FieldError).message;
  }
  throw new Error('expected a FieldError');
}

describe('schema', () => {
  it('numbers: finite, integer and bounds, with the rule in words', () => {
    const k = number({ int: true, min: 2, max: 64 });
    expect(k.parse(8, 'k')).toBe(8);
    expect(refusal(() => k.parse(1.5, 'k'))).toBe('k: must be an integer from 2 to 64, got 1.5.');
    expect(refusal(() => k.parse(65, 'k'))).toBe('k: must be an integer from 2 to 64, got 65.');
    expect(refusal(() => number({ gt: 0 }).parse(0, 'mpp'))).toBe('mpp: must be a positive number, got 0.');
    expect(refusal(() => number().parse(Number.NaN, 'x'))).toBe('x: must be a number, got NaN.');
    expect(refusal(() => number().parse(Infinity, 'x'))).toBe('x: must be a number, got Infinity.');
    expect(refusal(() => number({ min: 0 }).parse('3', 'x'))).toBe('x: must be a number ≥ 0, got "3".');
  });

  it('strings, booleans and fixed choices', () => {
    expect(string().parse('a', 's')).toBe('a');
    expect(refusal(() => string().parse('', 's'))).toBe('s: must be a non-empty string, got "".');
    expect(refusal(() => string().parse('a\0b', 's'))).toMatch(/^s: must be a non-empty string/);
    expect(refusal(() => string({ maxLength: 3 }).parse('abcd', 's'))).toBe('s: must be at most 3 characters, got 4.');
    expect(refusal(() => boolean().parse(1, 'b'))).toBe('b: must be true or false, got 1.');
    expect(refusal(() => string({ pattern: /^[a-z]+$/, patternWords: 'letters' }).parse('{mpp}', 'name'))).toBe(
      'name: must be a string of letters, got "{mpp}".',
    );
    expect(oneOf(['a', 'b']).parse('b', 'c')).toBe('b');
    expect(refusal(() => oneOf(['a', 'b']).parse('z', 'c'))).toBe('c: must be one of "a", "b", got "z".');
  });

  it('objects are strict, name nested fields by path, leave out absent optionals, and come back frozen', () => {
    const s = object({
      imageId: string(),
      k: optional(number({ int: true })),
      points: optional(array(object({ x: number(), y: number() }), { min: 1 })),
    });
    const input = { imageId: 'i', points: [{ x: 1, y: 2 }] };
    const out = s.parse(input, '');
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(Object.keys(s.parse({ imageId: 'i', k: undefined }, ''))).toEqual(['imageId']);
    expect(s.parse({ imageId: 'i', k: null }, '')).toEqual({ imageId: 'i' }); // JSON's absent value
    expect(refusal(() => s.parse({ imageId: 'i', points: [{ x: 1, y: 'two' }] }, 'request'))).toBe(
      'request.points[0].y: must be a number, got "two".',
    );
    expect(refusal(() => s.parse({ imageId: 'i', points: [] }, ''))).toBe('points: must hold at least 1 item, got 0.');
    expect(refusal(() => s.parse({ imageId: 'i', kk: 3 }, ''))).toBe('kk: is not a known field (known: imageId, k, points).');
    expect(refusal(() => s.parse([], 'o'))).toBe('o: must be an object, got a list.');
    expect(refusal(() => s.parse({ imageId: 'i', constructor: 1 }, ''))).toMatch(/^constructor: is not a known field/);
    expect(Object.isFrozen(out) && Object.isFrozen(out.points) && Object.isFrozen(out.points?.[0])).toBe(true);
    expect(() => {
      (out as { imageId: string }).imageId = 'other';
    }).toThrow(TypeError);
  });

  it('nullable keeps null; optional of nullable keeps null and absent apart', () => {
    expect(nullable(string()).parse(null, 'p')).toBeNull();
    const from = optional(nullable(string()));
    expect(from.parse(null, 'from')).toBeNull();
    expect(from.parse(undefined, 'from')).toBeUndefined();
    expect(refusal(() => nullable(string()).parse(3, 'p'))).toBe('p: must be a non-empty string or null, got 3.');
  });

  it('argument lists name each argument, an object argument by its fields, and refuse extra arguments', () => {
    const a = args(['imageId', string()], ['options', optional(object({ threshold: optional(number()) }))]);
    expect(a.parse(['i'])).toEqual(['i', undefined]);
    expect(a.parse(['i', null])).toEqual(['i', undefined]);
    expect(refusal(() => a.parse([7]))).toBe('imageId: must be a non-empty string, got 7.');
    expect(refusal(() => a.parse(['i', { threshold: 'x' }]))).toBe('threshold: must be a number, got "x".');
    expect(refusal(() => a.parse(['i', 5]))).toBe('options: must be an object, got 5.');
    expect(refusal(() => a.parse(['i', {}, 3]))).toBe('takes at most 2 arguments (imageId, options), got 3.');
  });
});
