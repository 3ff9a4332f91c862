// The ViT backbones against PyTorch (core/model/fixtures/vit.json, written by scripts/fixtures/vit_fixtures.py
// from reference modules that restate the official dinov2/dinov3 code): tiny random models of both styles
// with 0–4 registers, MLP and SwiGLU, with and without LayerScale, pos-embed resized down, up, by offset,
// by size with and without antialias (square and not), or skipped, non-square inputs, masks, RoPE tables and training-time RoPE
// augmentation. float32 through onnxruntime must match to 1e-4 of the reference's largest magnitude;
// float64 to 1e-9.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { halfToFloat } from '../common/half.js';
import { Graph } from '../graph/graph.js';
import { serialize } from '../graph/onnx.js';
import { Session } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, type ViTOverrides, vitConfig } from './config.js';
import { type InferenceOutput, inferenceGraph } from './inference.js';
import { Rng, initParams, paramCount, toGraphLayout } from './params.js';
import { posEmbedTokens } from './pos-embed.js';
import { buildViT, declareParams } from './vit.js';
import { ropeTables, sampleRopeAug } from './rope.js';

interface Entry {
  shape: number[];
  f16?: string;
  f64?: string;
}
type Outputs = Record<string, Entry>;
interface Case {
  name: string;
  config: Record<string, unknown> & { layerScale: boolean };
  batch: number;
  height: number;
  width: number;
  params: Record<string, Entry>;
  images: Entry;
  expected: Outputs;
  masks?: { shape: number[]; values: number[] };
  masked?: Outputs;
  ropeAug?: Entry;
  trained?: Outputs;
  ropeAugTables?: Outputs;
}
interface Fixture {
  cases: Case[];
  paramCounts: Record<string, number>;
}

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/vit.json', import.meta.url)), 'utf8')) as Fixture;

function decode(e: Entry): Float64Array {
  if (e.f64 !== undefined) {
    const b = Buffer.from(e.f64, 'base64');
    return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  const b = Buffer.from(e.f16 ?? '', 'base64');
  const u = new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return Float64Array.from(u, halfToFloat);
}
const asHost = (e: Entry, dtype: 'float32' | 'float64'): HostTensor =>
  dtype === 'float64' ? hostTensor('float64', e.shape, decode(e)) : hostTensor('float32', e.shape, Float32Array.from(decode(e)));

function configOf(k: Case): ViTConfig {
  const { layerScale, ...rest } = k.config;
  return vitConfig('tiny', { ...(rest as ViTOverrides), layerScale: { enabled: layerScale } });
}

/** max |a − b| / max(|b|, 1e-12) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

interface RunOptions {
  dtype?: 'float32' | 'float64';
  masks?: boolean;
  ropeAug?: HostTensor;
  outputs?: InferenceOutput[];
  weights?: 'inputs' | 'initializers';
}
async function run(k: Case, o: RunOptions = {}): Promise<Record<string, HostTensor>> {
  const dtype = o.dtype ?? 'float32';
  const c = configOf(k);
  const values = Object.fromEntries(Object.entries(k.params).map(([n, e]) => [n, asHost(e, dtype)]));
  const ig = inferenceGraph(c, {
    batch: k.batch,
    height: k.height,
    width: k.width,
    dtype,
    masks: o.masks,
    ropeAug: !!o.ropeAug,
    weights: o.weights,
    values,
    outputs: o.outputs ?? ['cls', 'registers', 'patches', 'prenorm', 'attention', 'tokenNorms'],
  });
  const s = await Session.create(serialize(ig.graph), { intraOpThreads: 1 });
  sessions.push(s);
  const feeds: Record<string, HostTensor> = { images: asHost(k.images, dtype) };
  for (const n of ig.params) feeds[n] = toGraphLayout(n, values[n]);
  if (o.masks) feeds.masks = hostTensor('bool', k.masks!.shape, Uint8Array.from(k.masks!.values));
  if (o.ropeAug) feeds.rope_aug = o.ropeAug;
  return s.run(feeds);
}
const f64 = (t: HostTensor): Float64Array => Float64Array.from(t.data as Float32Array);

/** The reference's CLS attention row (B, h, T) restricted to the patch keys: (B, h, N). */
function patchAttention(k: Case, row: Entry): { patch: Float64Array; prefixMass: Float64Array } {
  const [B, h, T] = row.shape;
  const R = k.config.registers as number;
  const N = T - 1 - R;
  const all = decode(row);
  const patch = new Float64Array(B * h * N);
  const prefixMass = new Float64Array(B * h);
  for (let r = 0; r < B * h; r++) {
    for (let t = 0; t < T; t++) {
      if (t < 1 + R) prefixMass[r] += all[r * T + t];
      else patch[r * N + t - 1 - R] = all[r * T + t];
    }
  }
  return { patch, prefixMass };
}

function expectClose(got: Record<string, HostTensor>, want: Outputs, k: Case, tol: number): void {
  for (const name of ['cls', 'registers', 'patches', 'prenorm', 'tokenNorms'] as const) {
    if (!(name in got)) continue;
    expect(got[name].dims, `${k.name} ${name} shape`).toEqual(want[name].shape);
    expect(relErr(f64(got[name]), decode(want[name])), `${k.name} ${name}`).toBeLessThan(tol);
  }
  if ('attention' in got) {
    const { patch } = patchAttention(k, want.attention);
    expect(relErr(f64(got.attention), patch), `${k.name} attention`).toBeLessThan(tol);
  }
}

describe('ViT parity with PyTorch (float32, parameters as inputs)', () => {
  for (const k of fx.cases) {
    it(k.name, async () => {
      const got = await run(k);
      expectClose(got, k.expected, k, 1e-4);
    });
  }
});

describe('ViT parity in float64', () => {
  for (const k of fx.cases.filter((c) => c.name.startsWith('v2-reg4') || c.name.startsWith('v3-reg4') || c.name.includes('swiglu'))) {
    it(k.name, async () => {
      const got = await run(k, { dtype: 'float64' });
      expectClose(got, k.expected, k, 1e-9);
    });
  }
});

describe('ViT options', () => {
  const v2 = fx.cases.find((c) => c.name === 'v2-reg4-antialias-down')!;
  const v3 = fx.cases.find((c) => c.name === 'v3-reg4-rope')!;

  it('embeds the weights as initializers with the same result', async () => {
    const got = await run(v3, { weights: 'initializers', outputs: ['cls', 'patches'] });
    expectClose(got, v3.expected, v3, 1e-4);
  });

  it('replaces masked patches by mask_token before position information (v2 and v3)', async () => {
    for (const k of [v2, v3]) {
      const got = await run(k, { masks: true });
      expectClose(got, k.masked!, k, 1e-4);
      // Masking changes the output (the fixture's unmasked patches differ from the masked run).
      expect(relErr(f64(got.patches), decode(k.expected.patches))).toBeGreaterThan(1e-2);
    }
  });

  it('accepts float masks (1 = masked) with the same result as bool masks', async () => {
    const c = configOf(v3);
    const g = new Graph('float_masks');
    const images = g.input('images', v3.images.shape);
    const masks = g.input('masks', v3.masks!.shape);
    const r = buildViT(g, images, c, { masks });
    g.output(r.patches, 'patches');
    g.output(r.cls, 'cls');
    const s = await Session.create(serialize(g));
    sessions.push(s);
    const feeds: Record<string, HostTensor> = {
      images: asHost(v3.images, 'float32'),
      masks: hostTensor('float32', v3.masks!.shape, v3.masks!.values),
    };
    for (const [n, e] of Object.entries(v3.params)) feeds[n] = toGraphLayout(n, asHost(e, 'float32'));
    expectClose(await s.run(feeds), v3.masked!, v3, 1e-4);
  });

  it('shares one parameter set between crops of different sizes in one graph, under a scope (multi-crop)', async () => {
    const c = configOf(v2);
    const g = new Graph('multicrop');
    const params = g.scope('student', () => declareParams(g, c));
    const big = g.input('global', v2.images.shape);
    const small = g.input('local', [v2.batch, 3, 28, 28]);
    g.output(g.scope('global', () => buildViT(g, big, c, { params })).patches, 'global_patches');
    g.output(g.scope('local', () => buildViT(g, small, c, { params })).cls, 'local_cls');
    expect(g.params.map((t) => t.name)).toContain('student/blocks.1.attn.qkv.weight');
    expect(g.params).toHaveLength(Object.keys(params).length);
    const s = await Session.create(serialize(g));
    sessions.push(s);
    const img = asHost(v2.images, 'float32');
    const crop = hostTensor('float32', [v2.batch, 3, 28, 28]);
    for (let b = 0; b < v2.batch; b++)
      for (let ch = 0; ch < 3; ch++)
        for (let y = 0; y < 28; y++)
          for (let x = 0; x < 28; x++) {
            crop.data[((b * 3 + ch) * 28 + y) * 28 + x] = img.data[((b * 3 + ch) * v2.height + y) * v2.width + x] as number;
          }
    const feeds: Record<string, HostTensor> = { global: img, local: crop };
    for (const [n, e] of Object.entries(v2.params)) feeds[`student/${n}`] = toGraphLayout(n, asHost(e, 'float32'));
    const got = await s.run(feeds);
    expect(relErr(f64(got.global_patches), decode(v2.expected.patches))).toBeLessThan(1e-4);
    const alone = await run(
      {
        ...v2,
        images: { shape: crop.dims, f64: Buffer.from(Float64Array.from(crop.data as Float32Array).buffer).toString('base64') },
        height: 28,
        width: 28,
      },
      { outputs: ['cls'] },
    );
    expect(relErr(f64(got.local_cls), f64(alone.cls))).toBeLessThan(1e-6);
  });

  it('returns the CLS→patch attention of the last block: the rest of each softmax row sits on CLS and registers', async () => {
    for (const k of fx.cases) {
      const got = await run(k, { outputs: ['attention'] });
      const { prefixMass } = patchAttention(k, k.expected.attention);
      const [B, h, N] = got.attention.dims;
      expect(N).toBe((k.height / (k.config.patchSize as number)) * (k.width / (k.config.patchSize as number)));
      const a = got.attention.data as Float32Array;
      for (let r = 0; r < B * h; r++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += a[r * N + n];
        expect(s + prefixMass[r]).toBeCloseTo(1, 5);
        if ((k.config.registers as number) === 0) expect(s).toBeLessThan(1);
      }
    }
  });

  it('reports per-token prenorm norms (B, 1 + R + N)', async () => {
    const got = await run(v2, { outputs: ['tokenNorms', 'prenorm'] });
    const [B, T] = got.tokenNorms.dims;
    const D = got.prenorm.dims[2];
    const x = got.prenorm.data as Float32Array;
    for (let t = 0; t < B * T; t++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[t * D + d] ** 2;
      expect((got.tokenNorms.data as Float32Array)[t]).toBeCloseTo(Math.sqrt(s), 4);
    }
  });
});

describe('DINOv2 position embedding', () => {
  for (const k of fx.cases.filter((c) => c.config.arch === 'dinov2')) {
    it(`${k.name}: ${(k.config.posEmbed as { variant: string }).variant} ${k.height}×${k.width}`, async () => {
      const c = configOf(k);
      const g = new Graph('pe');
      const pos = g.input('pos_embed', k.params.pos_embed.shape, 'float64');
      const p = k.config.patchSize as number;
      const pe = posEmbedTokens(g, pos, c.posEmbed!, k.height / p, k.width / p, k.height === k.width);
      g.output(pe.cls, 'cls');
      g.output(pe.patches, 'patches');
      const s = await Session.create(serialize(g));
      sessions.push(s);
      const out = await s.run({ pos_embed: asHost(k.params.pos_embed, 'float64') });
      const want = decode(k.expected.posEmbed); // (1, 1 + N, D)
      const D = want.length / k.expected.posEmbed.shape[1];
      expect(relErr(out.cls.data as Float64Array, want.subarray(0, D))).toBeLessThan(1e-12);
      expect(relErr(out.patches.data as Float64Array, want.subarray(D))).toBeLessThan(1e-12);
    });
  }
});

describe('DINOv3 RoPE', () => {
  const v3 = fx.cases.filter((c) => c.config.arch === 'dinov3');
  for (const k of v3) {
    it(`${k.name}: sin/cos tables`, () => {
      const c = configOf(k);
      const p = c.patchSize;
      const t = ropeTables(c, k.height / p, k.width / p);
      expect(relErr(t.sin, decode(k.expected.ropeSin))).toBeLessThan(1e-12);
      expect(relErr(t.cos, decode(k.expected.ropeCos))).toBeLessThan(1e-12);
    });
  }
  const k = v3.find((c) => c.ropeAug)!;
  it('applies a given augmentation draw to the tables', () => {
    const c = configOf(k);
    const aug = decode(k.ropeAug!);
    const t = ropeTables(c, k.height / c.patchSize, k.width / c.patchSize, [aug[0], aug[1], aug[2], aug[3], aug[4]]);
    expect(relErr(t.sin, decode(k.ropeAugTables!.ropeSin))).toBeLessThan(1e-12);
    expect(relErr(t.cos, decode(k.ropeAugTables!.ropeCos))).toBeLessThan(1e-12);
  });
  it('in training, re-draws per block from the rope_aug input (matches PyTorch); zero draws equal inference', async () => {
    const trained = await run(k, { ropeAug: asHost(k.ropeAug!, 'float32'), outputs: ['cls', 'patches'] });
    expectClose(trained, k.trained!, k, 1e-4);
    expect(relErr(f64(trained.patches), decode(k.expected.patches))).toBeGreaterThan(1e-3);
    const zero = hostTensor('float32', [configOf(k).depth, 5]);
    const same = await run(k, { ropeAug: zero, outputs: ['cls', 'patches'] });
    expectClose(same, k.expected, k, 1e-5);
  });
  it('samples augmentation draws reproducibly from a seed, zero where a component is off', () => {
    const c = vitConfig('small', { arch: 'dinov3', rope: { augment: { shift: 0.5, jitter: null, rescale: 2 } } });
    const a = sampleRopeAug(c, new Rng(3));
    const b = sampleRopeAug(c, new Rng(3));
    expect(a.dims).toEqual([12, 5]);
    expect([...a.data]).toEqual([...b.data]);
    const d = a.data;
    for (let i = 0; i < 12; i++) {
      expect(Math.abs(d[i * 5])).toBeLessThanOrEqual(0.5);
      expect(d[i * 5 + 2]).toBe(0);
      expect(d[i * 5 + 3]).toBe(0);
      expect(Math.abs(d[i * 5 + 4])).toBeLessThanOrEqual(Math.log(2) + 1e-7);
    }
    expect(new Set(d.filter((_, j) => j % 5 === 4)).size).toBe(12); // a fresh rescale per block
  });
});

describe('sizes', () => {
  it('matches the reference modules parameter counts', () => {
    for (const size of ['small', 'base', 'large'] as const) {
      for (const arch of ['dinov2', 'dinov3'] as const) {
        expect(paramCount(vitConfig(size, { arch, registers: 4 })), `${arch}-${size}`).toBe(fx.paramCounts[`${arch}-${size}-reg4`]);
      }
    }
  });
  it('builds every size with any number of registers (graph only)', () => {
    for (const size of ['tiny', 'small', 'base', 'large'] as const) {
      for (const registers of [0, 1, 4]) {
        for (const arch of ['dinov2', 'dinov3'] as const) {
          const c = vitConfig(size, { arch, registers });
          const ig = inferenceGraph(c, {
            batch: 1,
            height: 2 * c.patchSize,
            width: 3 * c.patchSize,
            outputs: ['cls', 'registers', 'patches'],
          });
          const shapes = Object.fromEntries(ig.graph.outputs.map((t) => [t.name, t.shape]));
          expect(shapes.registers).toEqual([1, registers, c.dim]);
          expect(shapes.patches).toEqual([1, 6, c.dim]);
          expect(ig.graph.params.reduce((s, t) => s + t.size, 0)).toBe(paramCount(c));
        }
      }
    }
  });
  it('runs a random-weight model with 0 registers end to end', async () => {
    const c = vitConfig('tiny', { arch: 'dinov3', registers: 0, depth: 1 });
    const ig = inferenceGraph(c, {
      batch: 1,
      height: 32,
      width: 48,
      weights: 'initializers',
      values: initParams(c, 5),
      outputs: ['cls', 'registers', 'patches'],
    });
    const s = await Session.create(serialize(ig.graph));
    sessions.push(s);
    const out = await s.run({ images: hostTensor('float32', [1, 3, 32, 48], new Float32Array(3 * 32 * 48).fill(0.5)) });
    expect(out.registers.dims).toEqual([1, 0, 192]);
    expect(out.patches.dims).toEqual([1, 6, 192]);
    expect([...(out.cls.data as Float32Array)].every(Number.isFinite)).toBe(true);
  });
});
