import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from '../../common/half.js';
import { clusteredVectors } from '../synthetic.js';
import { ExactIndex, type Hit } from './exact.js';
import { IvfIndex } from './ivf.js';
import { nms } from './nms.js';
import { meanQuery, rectQuery } from './query.js';
import { dequantizeRow, quantizeRow } from './quantize.js';
import { TopK } from './topk.js';

const D = 64;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-index-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bruteTop(idx: ExactIndex, q: Float32Array, k: number): { row: number; score: number }[] {
  const qn = meanQuery([q]);
  const out: { row: number; score: number }[] = [];
  for (let r = 0; r < idx.size; r++) {
    const v = idx.rowsSpace.vector(r);
    let s = 0;
    for (let j = 0; j < D; j++) s += v[j] * qn[j];
    out.push({ row: r, score: s });
  }
  return out.sort((a, b) => b.score - a.score).slice(0, k);
}

describe('quantisation', () => {
  it('int8 rows are within scale/2 of the unit vector, fp16 within 2^-11 relative', () => {
    const { vectors } = clusteredVectors(200, D, 5, 0.3);
    const q = new Int8Array(D);
    for (let i = 0; i < 200; i++) {
      const s = quantizeRow(vectors, i * D, D, q, 0, D);
      const back = dequantizeRow(q, 0, D, s);
      for (let j = 0; j < D; j++) expect(Math.abs(back[j] - vectors[i * D + j])).toBeLessThanOrEqual(s / 2 + 1e-7);
      expect(s).toBeLessThanOrEqual(1 / 127);
    }
    const h = fromFloat16(toFloat16(vectors));
    for (let i = 0; i < vectors.length; i++)
      expect(Math.abs(h[i] - vectors[i])).toBeLessThanOrEqual(Math.abs(vectors[i]) * 2 ** -11 + 2 ** -25);
  });

  it('float16 round trips special values and rounds to nearest even', () => {
    const v = new Float32Array([0, -0, 1, -2, 65504, 70000, -Infinity, 5e-8, 6e-5, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    const back = fromFloat16(toFloat16(v));
    expect(Array.from(back.subarray(0, 5))).toEqual([0, -0, 1, -2, 65504]);
    expect(back[5]).toBe(Infinity);
    expect(back[6]).toBe(-Infinity);
    expect(back[7]).toBe(2 ** -24); // the smallest subnormal
    expect(Math.abs(back[8] - 6e-5)).toBeLessThan(2 ** -24);
    expect(back[9]).toBe(1); // tie → even
    expect(back[10]).toBe(1 + 2 * 2 ** -10);
    expect(Number.isNaN(fromFloat16(toFloat16(new Float32Array([NaN])))[0])).toBe(true);
  });
});

describe('TopK', () => {
  it('keeps the k largest', () => {
    const t = new TopK(5);
    const xs = Array.from({ length: 1000 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
    xs.forEach((x, i) => t.push(x, i));
    expect(t.sorted().map((e) => e.score)).toEqual(
      [...xs]
        .sort((a, b) => b - a)
        .slice(0, 5)
        .map((x) => Math.fround(x)),
    );
  });
});

describe('ExactIndex', () => {
  const n = 20000;
  const syn = clusteredVectors(n, D, 40, 0.08);
  let idx: ExactIndex;
  const gw = 100;
  beforeAll(async () => {
    idx = await ExactIndex.create(join(dir, 'exact'), D, 4096);
    // Two images of 10 000 patches each (100 × 100 grid), appended in uneven batches.
    for (const [img, from, to] of [
      ['a', 0, 3000],
      ['a', 3000, 10000],
      ['b', 10000, 20000],
    ] as const) {
      const positions = Uint32Array.from({ length: to - from }, (_, i) => from - (img === 'a' ? 0 : 10000) + i);
      await idx.append({ image: img, gridWidth: gw, gridHeight: 100, positions, vectors: syn.vectors.subarray(from * D, to * D) });
    }
  });

  it('search equals brute force over the stored vectors, and survives reopen', async () => {
    for (const qi of [5, 777, 15000]) {
      const q = syn.vectors.subarray(qi * D, qi * D + D);
      const got = idx.search(q, 10);
      const want = bruteTop(idx, q, 10);
      expect(got.map((h) => h.row)).toEqual(want.map((h) => h.row));
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 3));
      expect(got[0].row).toBe(qi);
      expect(got[0].score).toBeGreaterThan(0.99);
    }
    const again = await ExactIndex.open(join(dir, 'exact'));
    expect(again.size).toBe(n);
    const q = syn.vectors.subarray(42 * D, 43 * D);
    expect(again.search(q, 10)).toEqual(idx.search(q, 10));
    expect(again.manifest.images.map((i) => i.ranges)).toEqual([[[0, 10000]], [[10000, 10000]]]);
  });

  it('hits carry image and grid position; heatmap is the cosine of every patch', () => {
    const q = syn.vectors.subarray(12345 * D, 12346 * D);
    const [best] = idx.search(q, 1);
    expect(best).toMatchObject({ image: 'b', x: 2345 % gw, y: Math.floor(2345 / gw) });
    const heat = idx.heatmap('b', q);
    expect(heat.length).toBe(10000);
    const b = bruteTop(idx, q, n);
    const byRow = new Map(b.map((e) => [e.row, e.score]));
    for (const p of [0, 2345, 9999]) expect(heat[p]).toBeCloseTo(byRow.get(10000 + p) ?? NaN, 4);
    const v = idx.vectorAt('b', best.x, best.y);
    expect(v).not.toBeNull();
  });

  it('IVF recall@10 against exact ≥ 0.95', () => {
    const ivf = IvfIndex.build(idx, { top: 8, leaf: 8, sample: 8000 });
    let hit = 0;
    const queries = 50;
    for (let i = 0; i < queries; i++) {
      const q = syn.vectors.subarray(i * 397 * D, i * 397 * D + D);
      const want = new Set(idx.search(q, 10).map((h) => h.row));
      hit += ivf.search(q, 10, 8).filter((h) => want.has(h.row)).length;
    }
    expect(hit / (queries * 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('IVF save/load gives the same answers; appended rows are found through the tail', async () => {
    const ivf = IvfIndex.build(idx, { top: 4, leaf: 4, sample: 4000 });
    await ivf.save(join(dir, 'ivf'));
    const loaded = await IvfIndex.load(join(dir, 'ivf'), idx);
    const q = syn.vectors.subarray(99 * D, 100 * D);
    expect(loaded.search(q, 10, 4)).toEqual(ivf.search(q, 10, 4));
    const extra = Float32Array.from(syn.vectors.subarray(99 * D, 100 * D));
    await idx.append({ image: 'c', gridWidth: 1, gridHeight: 1, positions: new Uint32Array([0]), vectors: extra });
    expect(loaded.tailFraction()).toBeGreaterThan(0);
    expect(loaded.search(q, 2, 1).map((h) => h.image)).toContain('c');
  });
});

describe('queries and NMS', () => {
  it('mean query is the normalised mean; rectangle query skips background', () => {
    const a = new Float32Array([1, 0, 0]);
    const b = new Float32Array([0, 2, 0]);
    const m = meanQuery([a, b]);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1]).toBeCloseTo(Math.SQRT1_2, 6);
    // (2, 2, 3) grid: patch (1,1) is background
    const grid = new Float32Array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const r = rectQuery(grid, 2, 2, 3, { x: 0, y: 0, width: 2, height: 2 }, new Uint8Array([1, 1, 1, 0]));
    expect(Array.from(r).map((x) => Number(x.toFixed(4)))).toEqual([
      Number((2 / Math.sqrt(5)).toFixed(4)),
      Number((1 / Math.sqrt(5)).toFixed(4)),
      0,
    ]);
  });

  it('NMS keeps distinct regions per image', () => {
    const hits: Hit[] = [
      { row: 0, image: 'a', x: 10, y: 10, score: 0.99 },
      { row: 1, image: 'a', x: 11, y: 10, score: 0.98 },
      { row: 2, image: 'b', x: 10, y: 10, score: 0.97 },
      { row: 3, image: 'a', x: 14, y: 10, score: 0.96 },
      { row: 4, image: 'a', x: 12, y: 12, score: 0.95 },
    ];
    expect(nms(hits, 2).map((h) => h.row)).toEqual([0, 2, 3]);
    expect(nms(hits, 2, 2).map((h) => h.row)).toEqual([0, 2]);
  });
});
