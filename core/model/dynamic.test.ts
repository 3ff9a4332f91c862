// The run-time-sized pieces of the dynamic inference graph against our exact host-side references: the
// DINOv2 pos-embed resized by ONNX Resize (every variant, up, down, non-square, the skip case) against
// PyTorch's interpolation matrices (resample.ts, themselves checked against PyTorch to 1e-12), and the
// DINOv3 RoPE tables computed from Range against `ropeTables`. One graph per case, run at every size.
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { mulberry32 } from '../common/random.js';
import { Session } from '../graph/runtime.js';
import { dimFloorDiv } from '../graph/sym.js';
import { hostTensor } from '../graph/tensor.js';
import { type PosEmbedConfig, vitConfig } from './config.js';
import { posEmbedPlan, posEmbedTokensDynamic } from './pos-embed.js';
import { ropeDynamic, ropeTables } from './rope.js';

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

/** Y[o, q, :] = Σ Mh[o, i] Mw[q, j] X[i, j, :] in float64 (X is the grid part of pos_embed, (M², D)). */
function reference(x: Float64Array, M: number, D: number, pe: PosEmbedConfig, h: number, w: number, square: boolean): Float64Array {
  const plan = posEmbedPlan(pe, h, w, square);
  if (plan.skip) return x.slice(0, M * M * D);
  const y = new Float64Array(h * w * D);
  for (let o = 0; o < h; o++)
    for (let q = 0; q < w; q++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < M; j++) {
          const c = plan.mh[o * M + i] * plan.mw[q * M + j];
          if (c === 0) continue;
          for (let d = 0; d < D; d++) y[(o * w + q) * D + d] += c * x[(i * M + j) * D + d];
        }
  return y;
}

describe('pos-embed resized in the graph (ONNX Resize) against the exact matrices', () => {
  const p = 14;
  const D = 8;
  const cases: { M: number; variant: PosEmbedConfig['variant']; sizes: [number, number][] }[] = [
    {
      M: 4,
      variant: 'size-antialias',
      sizes: [
        [4, 4],
        [2, 3],
        [6, 9],
        [1, 1],
        [3, 11],
      ],
    },
    {
      M: 4,
      variant: 'offset',
      sizes: [
        [4, 4],
        [2, 3],
        [6, 9],
        [4, 7],
        [12, 1],
      ],
    },
    {
      M: 4,
      variant: 'size',
      sizes: [
        [4, 4],
        [2, 3],
        [6, 9],
        [5, 2],
      ],
    },
    {
      M: 37,
      variant: 'size-antialias',
      sizes: [
        [16, 16],
        [37, 37],
        [64, 40],
        [9, 23],
      ],
    },
    {
      M: 37,
      variant: 'offset',
      sizes: [
        [16, 16],
        [37, 37],
        [64, 40],
      ],
    },
  ];
  it.each(cases.map((k) => [`${k.variant} from ${k.M}²`, k] as const))('%s', async (_name, k) => {
    const pe: PosEmbedConfig = { gridSize: k.M, variant: k.variant };
    const g = new Graph('pe');
    const images = g.input('images', [1, 1, 'height', 'width']); // declares the sizes; its data is unused
    const pos = g.input('pos_embed', [1, 1 + k.M * k.M, D]);
    const [, , H, W] = images.dims;
    const t = posEmbedTokensDynamic(g, pos, pe, dimFloorDiv(H, p), dimFloorDiv(W, p), H, W);
    g.output(t.patches, 'patches');
    g.output(t.cls, 'cls');
    const s = await Session.create(serialize(g), { intraOpThreads: 1 });
    sessions.push(s);
    const r = mulberry32(k.M);
    const x = Float64Array.from({ length: (1 + k.M * k.M) * D }, () => r() * 2 - 1);
    const errs: string[] = [];
    for (const [h, w] of k.sizes) {
      const out = await s.run({
        images: hostTensor('float32', [1, 1, h * p, w * p]),
        pos_embed: hostTensor('float32', [1, 1 + k.M * k.M, D], Float32Array.from(x)),
      });
      expect(out.patches.dims).toEqual([1, h * w, D]);
      const want = reference(x.subarray(D), k.M, D, pe, h, w, h === w);
      const got = out.patches.data as Float32Array;
      let err = 0;
      let mag = 0;
      for (let i = 0; i < want.length; i++) {
        err = Math.max(err, Math.abs(got[i] - want[i]));
        mag = Math.max(mag, Math.abs(want[i]));
      }
      errs.push(`${h}×${w} ${(err / mag).toExponential(1)}`);
      expect(err / mag, `${k.variant} ${k.M}² → ${h}×${w}`).toBeLessThan(2e-5);
      expect(Array.from(out.cls.data as Float32Array)).toEqual(Array.from(Float32Array.from(x.subarray(0, D))));
    }
    console.log(`pos-embed ${k.variant} from ${k.M}²: ${errs.join(', ')}`);
  });
});

describe('RoPE tables computed in the graph', () => {
  it('match ropeTables at several grids, prefix rows identity', async () => {
    const c = vitConfig('tiny', { arch: 'dinov3', registers: 2 });
    const d = c.dim / c.heads;
    const g = new Graph('rope');
    const images = g.input('images', [1, 1, 'height', 'width']);
    const [, , H, W] = images.dims;
    const t = ropeDynamic(g, c, images, dimFloorDiv(H, 16), dimFloorDiv(W, 16), 3);
    g.output(t.cos, 'cos');
    g.output(t.sinSigned, 'sin');
    const s = await Session.create(serialize(g), { intraOpThreads: 1 });
    sessions.push(s);
    for (const [h, w] of [
      [1, 1],
      [4, 7],
      [14, 14],
      [32, 9],
    ]) {
      const out = await s.run({ images: hostTensor('float32', [1, 1, h * 16, w * 16]) });
      expect(out.cos.dims).toEqual([3 + h * w, 1, d]);
      const ref = ropeTables(c, h, w);
      const cos = out.cos.data as Float32Array;
      const sin = out.sin.data as Float32Array;
      let err = 0;
      for (let k = 0; k < 3 * d; k++) err = Math.max(err, Math.abs(cos[k] - 1), Math.abs(sin[k]));
      for (let n = 0; n < h * w; n++)
        for (let k = 0; k < d; k++) {
          const o = (3 + n) * d + k;
          err = Math.max(err, Math.abs(cos[o] - ref.cos[n * d + k]), Math.abs(sin[o] - (k < d / 2 ? -1 : 1) * ref.sin[n * d + k]));
        }
      expect(err, `${h}×${w}`).toBeLessThan(5e-6);
    }
  });
});
