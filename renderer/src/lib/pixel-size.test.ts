import { describe, expect, it } from 'vitest';
import { parsePixelSize } from './pixel-size.js';

describe('a typed pixel size', () => {
  it('reads µm per pixel, with a decimal comma too, and says what is wrong otherwise', () => {
    expect(parsePixelSize(' 0.5 ')).toEqual({ mpp: 0.5 });
    expect(parsePixelSize('0,25')).toEqual({ mpp: 0.25 });
    expect(parsePixelSize('')).toEqual({ error: 'Type the pixel size in µm per pixel, e.g. 0.5 for a 20× scan.' });
    expect(parsePixelSize('abc')).toEqual({ error: '"abc" is not a positive number of µm per pixel.' });
    expect(parsePixelSize('-1')).toEqual({ error: '"-1" is not a positive number of µm per pixel.' });
    expect(parsePixelSize('1e9')).toMatchObject({ error: expect.stringContaining('outside 0.0001 to 10000') });
  });
});
