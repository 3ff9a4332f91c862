// The whole weights path against PyTorch: the tiny models of core/model/fixtures/vit.json (written by
// scripts/fixtures/vit_fixtures.py) are exported in HF and original layouts, imported back with layout
// detection, exported as standalone ONNX (dynamic batch, height and width) and run in onnxruntime at the
// fixture's size; CLS, register and patch outputs must match the PyTorch reference to 1e-4 of its largest
// magnitude. Then tiny (192 × 12) DINOv2 (both pos-embed variants, registers) and DINOv3 models exported
// once each run in a fresh session at two sizes × two batch sizes against our static inference graph.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../graph/runtime.js';
import { hostTensor } from '../../graph/tensor.js';
import { serialize } from '../../graph/onnx.js';
import { mulberry32 } from '../../common/random.js';
import { type ViTConfig, type ViTOverrides, vitConfig } from '../config.js';
import { inferenceGraph } from '../inference.js';
import { initParams, toGraphFeeds } from '../params.js';
import { exportWeights } from './export.js';
import { halfToFloat } from '../../common/half.js';
import { loadWeights } from './import.js';
import { exportOnnx } from './onnx-export.js';
import type { WeightTensor } from './safetensors.js';

interface Entry {
  shape: number[];
  f16?: string;
  f64?: string;
}
interface Case {
  name: string;
  config: Record<string, unknown> & { layerScale: boolean };
  batch: number;
  height: number;
  width: number;
  params: Record<string, Entry>;
  images: Entry;
  expected: Record<string, Entry>;
}

const fx = JSON.parse(readFileSync(new URL('../fixtures/vit.json', import.meta.url), 'utf8')) as { cases: Case[] };

function decode(e: Entry): Float32Array {
  if (e.f64 !== undefined) {
    const b = Buffer.from(e.f64, 'base64');
    return Float32Array.from(new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  }
  const b = Buffer.from(e.f16 ?? '', 'base64');
  return Float32Array.from(new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), halfToFloat);
}

function configOf(k: Case): ViTConfig {
  const { layerScale, ...rest } = k.config;
  return vitConfig('tiny', { ...(rest as ViTOverrides), layerScale: { enabled: layerScale } });
}

function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

let dir: string;
const sessions: Session[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-onnx-export-'));
});
afterAll(async () => {
  for (const s of sessions) await s.release();
  await rm(dir, { recursive: true, force: true });
});

describe('HF/original export → import → standalone ONNX, against PyTorch', () => {
  const cases = fx.cases.filter((c) =>
    ['v2-reg4-antialias-down', 'v2-reg1-offset-down-nols', 'v3-reg4-rope', 'v3-reg0-swiglu'].includes(c.name),
  );

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, k) => {
    const cfg = configOf(k);
    const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    for (const format of ['hf', 'original'] as const) {
      const out = join(dir, name, format);
      await exportWeights(out, cfg, tensors, format);
      const loaded = await loadWeights(
        join(out, 'model.safetensors'),
        format === 'original' ? { configJson: { num_heads: cfg.heads, layer_norm_eps: cfg.eps } } : {},
      );
      expect(loaded.layout).toBe(format === 'hf' ? (cfg.arch === 'dinov2' ? 'hf-dinov2' : 'hf-dinov3') : 'original');
      // transformers always resizes by size with antialias and always has LayerScale (written as 1):
      // keep the reference's resize to compare against it; LayerScale 1 is exact.
      const runCfg: ViTConfig = { ...loaded.config, posEmbed: cfg.posEmbed };
      const onnx = join(out, 'model.onnx');
      const r = await exportOnnx(onnx, runCfg, loaded.tensors);
      expect(r.outputs.map((o) => o.name)).toEqual(['cls', 'registers', 'patches']);
      expect(r.inputs).toEqual([{ name: 'images', shape: ['batch', 3, 'height', 'width'] }]);
      const s = await Session.create(new Uint8Array(await readFile(onnx)), { intraOpThreads: 1 });
      sessions.push(s);
      const res = await s.run({ images: hostTensor('float32', k.images.shape, decode(k.images)) });
      for (const o of ['cls', 'registers', 'patches']) {
        expect(res[o].dims, `${name} ${format} ${o}`).toEqual(k.expected[o].shape);
        if (k.expected[o].shape.includes(0)) continue;
        expect(relErr(res[o].data as Float32Array, decode(k.expected[o])), `${name} ${format} ${o}`).toBeLessThan(1e-4);
      }
    }
  });

  it.each(fx.cases.filter((c) => !cases.includes(c)).map((c) => [c.name, c] as const))(
    '%s (dynamic export of the fixture weights)',
    async (name, k) => {
      const cfg = configOf(k);
      const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
      const onnx = join(dir, `${name}.onnx`);
      await exportOnnx(onnx, cfg, tensors);
      const s = await Session.create(new Uint8Array(await readFile(onnx)), { intraOpThreads: 1 });
      sessions.push(s);
      const res = await s.run({ images: hostTensor('float32', k.images.shape, decode(k.images)) });
      for (const o of ['cls', 'registers', 'patches']) {
        expect(res[o].dims, `${name} ${o}`).toEqual(k.expected[o].shape);
        if (k.expected[o].shape.includes(0)) continue;
        expect(relErr(res[o].data as Float32Array, decode(k.expected[o])), `${name} ${o}`).toBeLessThan(1e-4);
      }
    },
  );

  it('exports fixed shapes on request', async () => {
    const k = cases[0];
    const cfg = configOf(k);
    const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    const r = await exportOnnx(join(dir, 'fixed.onnx'), cfg, tensors, { batch: k.batch, height: k.height, width: k.width });
    expect(r.inputs).toEqual([{ name: 'images', shape: [k.batch, 3, k.height, k.width] }]);
    expect(r.outputs.map((o) => o.shape)).toEqual([k.expected.cls.shape, k.expected.registers.shape, k.expected.patches.shape]);
    const s = await Session.create(new Uint8Array(await readFile(r.path)), { intraOpThreads: 1 });
    sessions.push(s);
    const res = await s.run({ images: hostTensor('float32', k.images.shape, decode(k.images)) });
    expect(relErr(res.patches.data as Float32Array, decode(k.expected.patches))).toBeLessThan(1e-4);
    await expect(exportOnnx(join(dir, 'half.onnx'), cfg, tensors, { height: 28 })).rejects.toThrow(/both height and width/);
    // Mixed: a fixed batch with dynamic sizes, and fixed sizes with a dynamic batch.
    for (const [file, fix, shape] of [
      ['batch.onnx', { batch: k.batch }, [k.batch, 3, 'height', 'width']],
      ['size.onnx', { height: k.height, width: k.width }, ['batch', 3, k.height, k.width]],
    ] as const) {
      const m = await exportOnnx(join(dir, file), cfg, tensors, fix);
      expect(m.inputs[0].shape).toEqual(shape);
      const ms = await Session.create(new Uint8Array(await readFile(m.path)), { intraOpThreads: 1 });
      sessions.push(ms);
      const mr = await ms.run({ images: hostTensor('float32', k.images.shape, decode(k.images)) });
      expect(relErr(mr.patches.data as Float32Array, decode(k.expected.patches)), file).toBeLessThan(1e-4);
    }
  });

  it('refuses sizes that are not multiples of the patch size', async () => {
    const k = cases[0];
    const cfg = configOf(k);
    const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    await expect(exportOnnx(join(dir, 'x.onnx'), cfg, tensors, { batch: 1, height: 30, width: 28 })).rejects.toThrow(
      /not a multiple of the patch size 14/,
    );
  });
});

interface SizesModel {
  name: string;
  config: Case['config'];
  params: Record<string, Entry>;
  runs: { batch: number; height: number; width: number; images: Entry; expected: Record<string, Entry> }[];
}
const sizes = JSON.parse(readFileSync(new URL('../fixtures/vit-sizes.json', import.meta.url), 'utf8')) as { models: SizesModel[] };

describe('one dynamic export against PyTorch at several batch and image sizes (fixtures/vit-sizes.json)', () => {
  it.each(sizes.models.map((m) => [m.name, m] as const))('%s', async (name, m) => {
    const cfg = configOf({ config: m.config } as Case);
    const tensors = new Map<string, WeightTensor>(Object.entries(m.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    const onnx = join(dir, `sizes-${name}.onnx`);
    await exportOnnx(onnx, cfg, tensors);
    const s = await Session.create(new Uint8Array(await readFile(onnx)), { intraOpThreads: 1 });
    sessions.push(s);
    const errs: string[] = [];
    for (const r of m.runs) {
      const res = await s.run({ images: hostTensor('float32', r.images.shape, decode(r.images)) });
      for (const o of ['cls', 'registers', 'patches']) {
        const at = `${name} ${o} B=${r.batch} ${r.height}×${r.width}`;
        expect(res[o].dims, at).toEqual(r.expected[o].shape);
        const e = relErr(res[o].data as Float32Array, decode(r.expected[o]));
        expect(e, at).toBeLessThan(1e-4);
        errs.push(e.toExponential(1));
      }
    }
    console.log(
      `${name}: dynamic export vs PyTorch at ${m.runs.map((r) => `${r.batch}×${r.height}×${r.width}`).join(', ')}: max rel err ${errs.join(' ')}`,
    );
  });
});

describe('dynamic export of tiny models against our inference graph', () => {
  // LayerScale 1 (not the 1e-5 training init) so every block changes the outputs measurably.
  const models: [string, ViTOverrides][] = [
    ['dinov2 reg4 size-antialias', { arch: 'dinov2', registers: 4, posEmbed: { gridSize: 16, variant: 'size-antialias' } }],
    ['dinov2 reg1 offset', { arch: 'dinov2', registers: 1, posEmbed: { gridSize: 16, variant: 'offset' } }],
    ['dinov3 reg4', { arch: 'dinov3', registers: 4 }],
  ];
  it.each(models)('%s', async (name, ov) => {
    const cfg = vitConfig('tiny', { ...ov, layerScale: { init: 1 } });
    const values = initParams(cfg, 11);
    const tensors = new Map<string, WeightTensor>(
      Object.entries(values).map(([n, t]) => [n, { shape: t.dims, data: t.data as Float32Array }]),
    );
    const onnx = join(dir, `${name.replace(/ /g, '-')}.onnx`);
    const r = await exportOnnx(onnx, cfg, tensors);
    const p = cfg.patchSize;
    const N = `(height/${p})*(width/${p})`;
    expect(r.outputs).toEqual([
      { name: 'cls', shape: ['batch', 192] },
      { name: 'registers', shape: ['batch', cfg.registers, 192] },
      { name: 'patches', shape: ['batch', N, 192] },
    ]);
    const s = await Session.create(new Uint8Array(await readFile(onnx)), { intraOpThreads: 2 });
    sessions.push(s);
    const feeds = toGraphFeeds(cfg, values);
    const rng = mulberry32(5);
    const errs: string[] = [];
    // 7 × 11 patches (the learned grid resized down), 16 × 16 (the training grid: v2 skips the resize).
    for (const [h, w] of [
      [7, 11],
      [16, 16],
    ]) {
      for (const B of [1, 2]) {
        const images = hostTensor(
          'float32',
          [B, 3, h * p, w * p],
          Float32Array.from({ length: B * 3 * h * p * w * p }, () => rng() * 2 - 1),
        );
        const got = await s.run({ images });
        const ig = inferenceGraph(cfg, { batch: B, height: h * p, width: w * p });
        const ref = await Session.create(serialize(ig.graph), { intraOpThreads: 2 });
        const want = await ref.run({ images, ...feeds });
        await ref.release();
        for (const o of ['cls', 'registers', 'patches']) {
          expect(got[o].dims, `${name} ${o} B=${B} ${h}×${w}`).toEqual(want[o].dims);
          const e = relErr(got[o].data as Float32Array, want[o].data as Float32Array);
          expect(e, `${name} ${o} B=${B} ${h}×${w}`).toBeLessThan(1e-4);
          errs.push(`${o} ${e.toExponential(1)}`);
        }
      }
    }
    console.log(`${name}: dynamic export vs static graph, max rel err ${errs.join(', ')}`);
  });
});
