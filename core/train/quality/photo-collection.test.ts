// The photo collection of the quality benchmark: the shipped photographs load, slides are deterministic with
// every class on every slide and the frame unlabelled, and the evaluation slides never reuse a pixel column
// the training slides cut from (left halves for training, right halves for evaluation).
import { describe, expect, it } from 'vitest';
import { EVAL_FIRST, PHOTO_CLASS_COUNT, loadPhotos, photoLayout, photoSlide } from './photo-collection.js';
import { patchLabel } from './held-out.js';

const spec = { side: 256, frame: 8, regionSize: 64, seed: 1 };

describe('photo collection', () => {
  it('loads four square photographs, three of them greyscale', async () => {
    const p = await loadPhotos();
    expect(p.rgb).toHaveLength(PHOTO_CLASS_COUNT);
    const grey = p.rgb.map((rgb) => {
      for (let i = 0; i < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
      return true;
    });
    expect(grey).toEqual([true, true, true, false]);
  });

  it('makes deterministic slides with every class and an unlabelled frame', async () => {
    const p = await loadPhotos();
    const a = photoSlide(p, spec, 0);
    expect(Buffer.from(photoSlide(p, spec, 0).rgb).equals(Buffer.from(a.rgb))).toBe(true);
    expect(Buffer.from(photoSlide(p, spec, 1).rgb).equals(Buffer.from(a.rgb))).toBe(false);
    for (const s of [a, photoSlide(p, spec, EVAL_FIRST)]) {
      const seen = new Set(s.labels);
      for (let c = 0; c < PHOTO_CLASS_COUNT; c++) expect(seen.has(c)).toBe(true);
      expect(s.labels[0]).toBe(-1);
      expect([...s.rgb.subarray(0, 3)]).toEqual([255, 255, 255]);
      expect(patchLabel(s, spec.side, 16, 0, 0)).toBe(-1);
    }
  });

  it('cuts training slides from the left halves and evaluation slides from the right halves', async () => {
    const { side } = await loadPhotos();
    for (const [i, left] of [
      [0, true],
      [3, true],
      [EVAL_FIRST, false],
      [EVAL_FIRST + 2, false],
    ] as const) {
      const at = photoLayout(side, spec, i);
      for (let y = 0; y < spec.side; y += 3)
        for (let x = 0; x < spec.side; x += 3) {
          const s = at(x, y);
          if (!s) continue;
          expect(s.px < side / 2).toBe(left);
          expect(s.py).toBeGreaterThanOrEqual(0);
          expect(s.py).toBeLessThan(side);
        }
    }
  });
});
