// The whole weights path against PyTorch: the tiny models of core/model/fixtures/vit.json (written by
// scripts/fixtures/vit_fixtures.py) are exported in HF and original layouts, imported back with layout
// detection, exported as standalone ONNX and run in onnxruntime; CLS, register and patch outputs must match
// the PyTorch reference to 1e-4 of its largest magnitude.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../graph/runtime.js';
import { hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, type ViTOverrides, vitConfig } from '../config.js';
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
  const cases = fx.cases.filter((c) => ['v2-reg4-antialias-down', 'v2-reg1-offset-down-nols', 'v3-reg4-rope', 'v3-reg0-swiglu'].includes(c.name));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, k) => {
    const cfg = configOf(k);
    const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    for (const format of ['hf', 'original'] as const) {
      const out = join(dir, name, format);
      await exportWeights(out, cfg, tensors, format);
      const loaded = await loadWeights(join(out, 'model.safetensors'), format === 'original' ? { configJson: { num_heads: cfg.heads, layer_norm_eps: cfg.eps } } : {});
      expect(loaded.layout).toBe(format === 'hf' ? (cfg.arch === 'dinov2' ? 'hf-dinov2' : 'hf-dinov3') : 'original');
      // transformers always resizes by size with antialias and always has LayerScale (written as 1):
      // keep the reference's resize to compare against it; LayerScale 1 is exact.
      const runCfg: ViTConfig = { ...loaded.config, posEmbed: cfg.posEmbed };
      const onnx = join(out, 'model.onnx');
      const r = await exportOnnx(onnx, runCfg, loaded.tensors, { batch: k.batch, height: k.height, width: k.width });
      expect(r.outputs.map((o) => o.name)).toEqual(['cls', 'registers', 'patches']);
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

  it('refuses sizes that are not multiples of the patch size', async () => {
    const k = cases[0];
    const cfg = configOf(k);
    const tensors = new Map<string, WeightTensor>(Object.entries(k.params).map(([n, e]) => [n, { shape: e.shape, data: decode(e) }]));
    await expect(exportOnnx(join(dir, 'x.onnx'), cfg, tensors, { batch: 1, height: 30, width: 28 })).rejects.toThrow(/not a multiple of the patch size 14/);
  });
});
