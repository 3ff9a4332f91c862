// CAPI's inverse-block masks: exact counts, the visible patches one connected block on the torus (the
// official roll wraps it around the edges), prediction targets among the masked patches, and the draws a
// function of the seed.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../model/params.js';
import { capiMaskCounts, capiMasks, flatIndices } from './masking.js';

/** Whether the cells form one 4-connected component on the h × w torus. */
function connectedOnTorus(cells: number[], h: number, w: number): boolean {
  const set = new Set(cells);
  const seen = new Set([cells[0]]);
  const todo = [cells[0]];
  while (todo.length) {
    const t = todo.pop()!;
    const r = Math.floor(t / w);
    const c = t % w;
    for (const [dr, dc] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ]) {
      const n = ((r + dr + h) % h) * w + ((c + dc + w) % w);
      if (set.has(n) && !seen.has(n)) {
        seen.add(n);
        todo.push(n);
      }
    }
  }
  return seen.size === set.size;
}

describe('CAPI masks', () => {
  it('counts as the official collate: ⌊N·0.65⌋ masked, 5 % of them predicted (at least 1)', () => {
    expect(capiMaskCounts(196, 0.65, 0.05)).toEqual({ masked: 127, visible: 69, predict: 6 });
    expect(capiMaskCounts(49, 0.65, 0.05)).toEqual({ masked: 31, visible: 18, predict: 1 });
    expect(() => capiMaskCounts(4, 0.1, 0.05)).toThrow(/no masked/);
  });

  it('one wrapped visible block per image, targets among the masked patches, reproducible', () => {
    for (const [h, w] of [
      [7, 7],
      [14, 14],
      [6, 9],
    ]) {
      const counts = capiMaskCounts(h * w, 0.65, 0.05);
      const m = capiMasks(16, h, w, counts, new Rng(3));
      for (let b = 0; b < 16; b++) {
        const v = m.visible[b];
        expect(v.length).toBe(counts.visible);
        expect([...v].sort((a, c) => a - c)).toEqual(v);
        expect(new Set(v).size).toBe(v.length);
        expect(connectedOnTorus(v, h, w), `image ${b} of ${h}×${w}: visible ${v.join(' ')}`).toBe(true);
        expect(m.predict[b].length).toBe(counts.predict);
        for (const t of m.predict[b]) expect(v.includes(t)).toBe(false);
      }
      expect(capiMasks(16, h, w, counts, new Rng(3))).toEqual(m);
      expect(capiMasks(16, h, w, counts, new Rng(4))).not.toEqual(m);
      const flat = flatIndices(m.visible, h * w);
      expect(flat.length).toBe(16 * counts.visible);
      expect(Number(flat[counts.visible])).toBe(h * w + m.visible[1][0]);
    }
  });
});
