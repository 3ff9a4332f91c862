// Checkpoint layouts against an independent conversion: scripts/fixtures/weights_layouts_fixture.py builds
// tiny random ViTs in the original layout and converts them the way transformers' and timm's own code does;
// every import must give back the original tensors (timm: an exactly equivalent fold of positions).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitConfig } from '../config.js';
import { PYTHON, hasTorch as torchInstalled } from '../fixtures/has-torch.js';
import { initParams, paramSpecs } from '../params.js';
import { exportWeights, hfConfigJson } from './export.js';
import { inspectWeights, loadWeights } from './import.js';
import { readSafetensors, writeSafetensors, type WeightTensor } from './safetensors.js';

const SCRIPT = join(import.meta.dirname, '../../../scripts/fixtures/weights_layouts_fixture.py');
const hasTorch = torchInstalled();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-layouts-'));
  if (hasTorch) execFileSync(PYTHON, [SCRIPT, join(dir, 'fx')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const same = (a: WeightTensor, b: WeightTensor): boolean =>
  a.shape.join() === b.shape.join() &&
  Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: [string, string, string][] = [
  ['original-dinov2-mlp', 'original', 'dinov2'],
  ['original-dinov2-swiglu', 'original', 'dinov2'],
  ['original-dinov3-mlp', 'original', 'dinov3'],
  ['original-dinov3-swiglu', 'original', 'dinov3'],
  ['hf-dinov2-mlp', 'hf-dinov2', 'dinov2'],
  ['hf-dinov2-swiglu', 'hf-dinov2', 'dinov2'],
  ['hf-dinov3-mlp', 'hf-dinov3', 'dinov3'],
  ['hf-dinov3-swiglu', 'hf-dinov3', 'dinov3'],
];

describe.skipIf(!hasTorch)('import against conversions done by the upstream recipes', () => {
  it.each(cases)('%s: detected as %s, config inferred, tensors identical to the original', async (name, layout, arch) => {
    const loaded = await loadWeights(join(dir, 'fx', name, 'model.safetensors'));
    expect(loaded.layout).toBe(layout);
    const swiglu = name.endsWith('swiglu');
    expect(loaded.config).toMatchObject({
      arch,
      dim: 32,
      depth: 2,
      heads: 2,
      patchSize: 4,
      registers: 2,
      ffn: swiglu ? 'swiglu' : 'mlp',
      qkvBias: true,
      maskKBias: arch === 'dinov3',
    });
    if (arch === 'dinov2') expect(loaded.config.posEmbed?.gridSize).toBe(3);
    const original = (await readSafetensors(join(dir, 'fx', `${name}.original.safetensors`))).tensors;
    expect([...loaded.tensors.keys()]).toEqual(paramSpecs(loaded.config).map((s) => s.name));
    for (const [k, t] of loaded.tensors) expect(same(t, original.get(k)!), k).toBe(true);
    if (name.startsWith('original')) {
      expect(loaded.prefix).toBe('teacher.backbone.');
      expect(loaded.skipped).toContain('student.backbone.cls_token');
    }
  });

  it.each(['mlp', 'swiglu'])('timm (%s): no_embed_class and register positions fold into an equivalent canonical model', async (ffn) => {
    const original = (await readSafetensors(join(dir, 'fx', `timm-no_embed_class-${ffn}.original.safetensors`))).tensors;
    const a = await loadWeights(join(dir, 'fx', `timm-no_embed_class-${ffn}`, 'model.safetensors'));
    expect(a.layout).toBe('timm');
    expect(a.config).toMatchObject({
      arch: 'dinov2',
      dim: 32,
      heads: 2,
      registers: 2,
      ffn,
      posEmbed: { gridSize: 3, variant: 'size-antialias' },
    });
    expect([...a.skipped].sort()).toEqual(['head.bias', 'head.weight']);
    const D = 32;
    const pos = a.tensors.get('pos_embed')!;
    const origPos = original.get('pos_embed')!;
    // cls + pos[0] is the same sum either way; the patch positions are untouched.
    const cls = a.tensors.get('cls_token')!.data.map((v, i) => v + pos.data[i]);
    const want = original.get('cls_token')!.data.map((v, i) => Math.fround(v + origPos.data[i]));
    expect(Array.from(cls)).toEqual(Array.from(want));
    expect(same({ shape: [1, 9, D], data: pos.data.slice(D) }, { shape: [1, 9, D], data: origPos.data.slice(D) })).toBe(true);
    expect(same(a.tensors.get('mask_token')!, { shape: [1, D], data: new Float32Array(D) })).toBe(true);
    for (const k of ['register_tokens', 'blocks.1.mlp.' + (ffn === 'mlp' ? 'fc1' : 'w12') + '.weight', 'norm.bias'])
      expect(same(a.tensors.get(k)!, original.get(k)!), k).toBe(true);

    const b = await loadWeights(join(dir, 'fx', `timm-cls_reg-${ffn}`, 'model.safetensors'));
    const orig2 = (await readSafetensors(join(dir, 'fx', `timm-cls_reg-${ffn}.original.safetensors`))).tensors;
    expect(maxDiff(b.tensors.get('register_tokens')!.data, orig2.get('register_tokens')!.data)).toBeLessThan(1e-6);
    for (const k of ['cls_token', 'pos_embed', 'blocks.0.attn.qkv.bias']) expect(same(b.tensors.get(k)!, orig2.get(k)!), k).toBe(true);
  });

  it('exports HF and original layouts that import back to identical tensors, with the config.json transformers reads', async () => {
    for (const name of ['hf-dinov2-swiglu', 'hf-dinov3-mlp', 'hf-dinov3-swiglu', 'original-dinov2-mlp']) {
      const a = await loadWeights(join(dir, 'fx', name, 'model.safetensors'));
      for (const format of ['hf', 'original'] as const) {
        const out = join(dir, 'export', name, format);
        const res = await exportWeights(out, a.config, a.tensors, format);
        const b = await loadWeights(res.files[0], format === 'original' ? { configJson: { num_heads: a.config.heads } } : {});
        expect(b.config, `${name} → ${format}`).toEqual(
          a.config.arch === 'dinov2' && format === 'hf'
            ? { ...a.config, posEmbed: { ...a.config.posEmbed!, variant: 'size-antialias' } }
            : a.config,
        );
        for (const [k, t] of a.tensors) expect(same(t, b.tensors.get(k)!), `${name} → ${format}: ${k}`).toBe(true);
      }
      // The HF export's stored tensors equal the file the upstream conversion wrote, key for key.
      if (name.startsWith('hf')) {
        const ours = (await readSafetensors(join(dir, 'export', name, 'hf', 'model.safetensors'))).tensors;
        const theirs = (await readSafetensors(join(dir, 'fx', name, 'model.safetensors'))).tensors;
        expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
        for (const [k, t] of theirs) expect(same(t, ours.get(k)!), k).toBe(true);
        const cfg = JSON.parse(await readFile(join(dir, 'export', name, 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;
        const upstream = JSON.parse(await readFile(join(dir, 'fx', name, 'config.json'), 'utf8')) as Record<string, unknown>;
        expect(cfg).toMatchObject(upstream);
      }
    }
  });

  it('lists every unknown, missing and mis-shaped key in one error', async () => {
    const src = (await readSafetensors(join(dir, 'fx', 'hf-dinov2-mlp', 'model.safetensors'))).tensors;
    src.delete('encoder.layer.1.norm2.bias');
    src.delete('encoder.layer.0.attention.attention.key.bias');
    src.set('encoder.layer.0.mlp.fc2.bias', { shape: [31], data: new Float32Array(31) });
    src.set('encoder.layer.0.surprise.weight', { shape: [2], data: new Float32Array(2) });
    src.set('pooler.dense.weight', { shape: [2], data: new Float32Array(2) });
    const bad = join(dir, 'bad', 'model.safetensors');
    await exportWeightsRaw(bad, src);
    const err = await inspectWeights(bad, { configJson: { num_attention_heads: 2 } }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(bad);
    expect(msg).toMatch(/2 missing: encoder\.layer\.0\.attention\.attention\.key\.bias, encoder\.layer\.1\.norm2\.bias/);
    expect(msg).toMatch(/1 mis-shaped: encoder\.layer\.0\.mlp\.fc2\.bias \[31\] \(expected \[32\]\)/);
    expect(msg).toMatch(/2 unknown: encoder\.layer\.0\.surprise\.weight, pooler\.dense\.weight/);
    expect(msg.split('\n')).toHaveLength(1);
  });
});

async function exportWeightsRaw(path: string, tensors: Map<string, WeightTensor>): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(path, '..'), { recursive: true });
  await writeSafetensors(path, tensors);
}

describe('layouts without PyTorch', () => {
  it('round-trips every layout for models built from the canonical specs (0 registers, no qkv bias, ViT-Ti width)', async () => {
    const cfgs = [
      vitConfig('tiny', { depth: 2, arch: 'dinov2', registers: 0, posEmbed: { gridSize: 4 } }),
      vitConfig('tiny', { depth: 2, arch: 'dinov3', registers: 0, ffn: 'swiglu' }),
      vitConfig('tiny', { depth: 3, arch: 'dinov2', registers: 4, qkvBias: false, posEmbed: { gridSize: 2 } }),
    ];
    for (const [i, cfg] of cfgs.entries()) {
      const host = initParams(cfg, i + 1);
      const tensors = new Map(Object.entries(host).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
      const formats = cfg.arch === 'dinov2' ? (['hf', 'original', 'timm'] as const) : (['hf', 'original'] as const);
      for (const format of formats) {
        const res = await exportWeights(join(dir, 'rt', String(i), format), cfg, tensors, format);
        const back = await loadWeights(res.files[0], { configJson: format === 'hf' ? undefined : { num_heads: cfg.heads } });
        expect(back.config.registers).toBe(cfg.registers);
        expect(back.config.qkvBias).toBe(cfg.qkvBias);
        expect(back.config.ffn).toBe(cfg.ffn);
        for (const [k, t] of tensors) {
          const b = back.tensors.get(k)!;
          if (format === 'timm' && (k === 'cls_token' || k === 'pos_embed' || k === 'mask_token')) continue; // folded: checked above
          expect(same(t, b), `${cfg.arch} ${format} ${k}`).toBe(true);
        }
      }
    }
    expect(hfConfigJson(cfgs[1])).toMatchObject({
      model_type: 'dinov3_vit',
      use_gated_mlp: true,
      hidden_act: 'silu',
      key_bias: false,
      num_register_tokens: 0,
      intermediate_size: 512,
    });
  });

  it('reads plain HF Dinov2Model checkpoints (no register_tokens) with the original 0.1-offset resize', async () => {
    const cfg = vitConfig('tiny', { depth: 1, arch: 'dinov2', registers: 0, posEmbed: { gridSize: 3 } });
    const tensors = new Map(Object.entries(initParams(cfg, 9)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
    const out = join(dir, 'plain-dinov2');
    await exportWeights(out, cfg, tensors, 'hf');
    const stored = (await readSafetensors(join(out, 'model.safetensors'))).tensors;
    stored.delete('embeddings.register_tokens');
    await writeSafetensors(join(out, 'model.safetensors'), stored);
    const json = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(out, 'config.json'),
      JSON.stringify({ ...json, model_type: 'dinov2', architectures: ['Dinov2Model'], num_register_tokens: undefined }),
    );
    const back = await loadWeights(join(out, 'model.safetensors'));
    expect(back.layout).toBe('hf-dinov2');
    expect(back.config).toMatchObject({ registers: 0, posEmbed: { gridSize: 3, variant: 'offset' } });
  });

  it('flattens DINOv2 FSDP block chunks (blocks.{chunk}.{i}.…) under a teacher.backbone. prefix', async () => {
    const cfg = vitConfig('tiny', { depth: 4, arch: 'dinov2', registers: 4, posEmbed: { gridSize: 2 } });
    const tensors = new Map(Object.entries(initParams(cfg, 11)).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
    const chunked = new Map(
      [...tensors].map(([k, t]) => [
        `teacher.backbone.${k.replace(/^blocks\.(\d+)\./, (_, i: string) => `blocks.${Math.floor(Number(i) / 2)}.${i}.`)}`,
        t,
      ]),
    );
    expect(chunked.has('teacher.backbone.blocks.1.3.attn.qkv.weight')).toBe(true);
    const path = join(dir, 'chunked.safetensors');
    await writeSafetensors(path, chunked);
    const back = await loadWeights(path, { configJson: { num_heads: 3 } });
    expect(back.config.depth).toBe(4);
    for (const [k, t] of tensors) expect(same(t, back.tensors.get(k)!), k).toBe(true);
  });

  it('names the file when no layout matches', async () => {
    const path = join(dir, 'odd.safetensors');
    await writeSafetensors(path, { 'conv1.weight': { shape: [2], data: new Float32Array(2) } });
    await expect(inspectWeights(path)).rejects.toThrow(/odd\.safetensors: the keys \(conv1\.weight\) match no known ViT layout/);
  });
});
