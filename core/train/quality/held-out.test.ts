// The held-out collection of the quality benchmark: deterministic, every class on every slide with the
// frame unlabelled, a stain that differs between slides, and patch labels that leave region borders out.
import { describe, expect, it } from 'vitest';
import { HELD_OUT_CLASS_COUNT, heldOutSlide, patchLabel } from './held-out.js';

const spec = { side: 256, frame: 8, regionSize: 64, seed: 1 };

describe('held-out slides', () => {
  it('are deterministic, hold every class, and vary in stain between slides', () => {
    const a = heldOutSlide(spec, 0);
    expect(Buffer.from(heldOutSlide(spec, 0).rgb).equals(Buffer.from(a.rgb))).toBe(true);
    const b = heldOutSlide(spec, 1);
    for (const s of [a, b]) {
      const seen = new Set(s.labels);
      for (let c = 0; c < HELD_OUT_CLASS_COUNT; c++) expect(seen.has(c)).toBe(true);
      expect(s.labels[0]).toBe(-1);
      expect(s.labels[(spec.side / 2) * spec.side + spec.side / 2]).toBeGreaterThanOrEqual(0);
    }
    // Mean colour of one class on two slides: the stain differs (a per-slide ±25 % jitter of each vector).
    const meanOf = (s: typeof a, cls: number): number[] => {
      const m = [0, 0, 0];
      let k = 0;
      s.labels.forEach((l, i) => {
        if (l !== cls) return;
        k++;
        for (let c = 0; c < 3; c++) m[c] += s.rgb[3 * i + c];
      });
      return m.map((v) => v / k);
    };
    const d = meanOf(a, 3).map((v, c) => Math.abs(v - meanOf(b, 3)[c]));
    expect(Math.max(...d)).toBeGreaterThan(3);
  });

  it('labels a patch only when one class fills it', () => {
    const s = heldOutSlide(spec, 0);
    expect(patchLabel(s, spec.side, 16, 0, 0)).toBe(-1); // on the frame
    let pure = 0;
    let border = 0;
    for (let gy = 1; gy < 15; gy++)
      for (let gx = 1; gx < 15; gx++) {
        const l = patchLabel(s, spec.side, 16, gx, gy);
        if (l < 0) border++;
        else {
          pure++;
          let same = 0;
          for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) same += s.labels[(gy * 16 + y) * spec.side + gx * 16 + x] === l ? 1 : 0;
          expect(same).toBeGreaterThanOrEqual(0.75 * 256);
        }
      }
    expect(pure).toBeGreaterThan(border);
    expect(border).toBeGreaterThan(0);
  });
});
