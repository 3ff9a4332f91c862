// dino.txt against the official code (core/model/text/fixtures, written by
// scripts/fixtures/dinotxt_fixtures.py running facebookresearch/dinov3's DINOTxt, TextTransformer and
// Tokenizer on tiny random float16 weights and a 120-merge vocabulary): token ids exactly; text
// embeddings, image and patch embeddings and patch–text scores through onnxruntime in float32 to 1e-4 of
// the reference's largest magnitude. The same weights are imported from safetensors and from the .pth
// (read without running its pickle), and exported to ONNX with a dynamic batch.
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { vitConfig } from '../config.js';
import { inferenceGraph } from '../inference.js';
import { initParams } from '../params.js';
import { dinoTxtVisionGraph, exportTextOnnx, textGraph, visionHeadGraph } from './graphs.js';
import { BpeTokenizer } from './tokenizer.js';
import { loadDinoTxt } from './weights.js';
import { writeSafetensors } from '../weights/safetensors.js';

interface Entry {
  shape: number[];
  f64: string;
}
interface Fixture {
  config: Record<string, unknown>;
  registers: number;
  texts: string[];
  tokens: number[][];
  logitScale: number;
  backboneTokens: Entry;
  text: Entry;
  image: Entry;
  patches: Entry;
  scores: Entry;
}

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const fx = JSON.parse(readFileSync(here('./fixtures/dinotxt.json'), 'utf8')) as Fixture;
const decode = (e: Entry): Float64Array => {
  const b = Buffer.from(e.f64, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const C = fx.config.contextLength as number;
const tokensTensor = (ids: BigInt64Array, n: number): HostTensor => hostTensor('int64', [n, C], ids);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('dino.txt tokenizer', () => {
  it('gives the official ids for every fixture text (cleaning, Unicode, truncation, the empty text)', async () => {
    const tok = await BpeTokenizer.fromFile(here('./fixtures/tiny-vocab.txt.gz'));
    expect(tok.vocabSize).toBe(fx.config.vocabSize);
    expect(tok.eot).toBe(tok.vocabSize - 1);
    const ids = tok.tokenize(fx.texts, C);
    expect(Array.from(ids, Number)).toEqual(fx.tokens.flat());
  });

  it('refuses a vocabulary line that is not a merge, naming the line', () => {
    expect(() => new BpeTokenizer('#version\na b\nnot-a-merge\n')).toThrow(/line 3/);
  });
});

describe('dino.txt import', () => {
  it('reads the same config and tensors from safetensors and from the .pth', async () => {
    const a = await loadDinoTxt(here('./fixtures/tiny.safetensors'));
    const b = await loadDinoTxt(here('./fixtures/tiny.pth'));
    expect(a.config).toEqual({ ...fx.config });
    expect(b.config).toEqual(a.config);
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [k, t] of a.tensors) expect(b.tensors.get(k)!.data).toEqual(t.data);
    expect(Math.exp(a.tensors.get('logit_scale')!.data[0])).toBeCloseTo(fx.logitScale, 3);
  });

  it('names every missing and mis-shaped key in one error', async () => {
    const a = await loadDinoTxt(here('./fixtures/tiny.safetensors'));
    const dir = await mkdtemp(join(tmpdir(), 'dinotxt-'));
    dirs.push(dir);
    const kept = [...a.tensors].filter(([k]) => !k.includes('blocks.1.attention.proj.bias'));
    const broken = kept.map(([k, t]) => (k.endsWith('ls1.gamma') ? [k, hostTensor('float32', [3], [1, 2, 3])] : [k, t])) as [
      string,
      HostTensor<'float32'>,
    ][];
    const path = join(dir, 'broken.safetensors');
    await writeSafetensors(path, new Map(broken.map(([name, t]) => [name, { shape: t.dims, data: t.data }])));
    await copyFile(here('./fixtures/config.json'), join(dir, 'config.json'));
    const err = await loadDinoTxt(path).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Missing: text_model\.backbone\.blocks\.1\.attention\.proj\.bias/);
    expect((err as Error).message).toMatch(/visual_model\.head\.blocks\.0\.ls1\.gamma is \[3\], expected \[32\]/);
  });

  it('refuses a checkpoint that is not dino.txt, in plain words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinotxt-'));
    dirs.push(dir);
    const path = join(dir, 'vit.safetensors');
    await writeSafetensors(path, { cls_token: { shape: [1, 1, 4], data: new Float32Array(4) } });
    await writeFile(join(dir, 'config.json'), '{}');
    await expect(loadDinoTxt(path)).rejects.toThrow(/not a dino\.txt checkpoint/);
  });
});

describe('dino.txt against the official code', async () => {
  const w = await loadDinoTxt(here('./fixtures/tiny.safetensors'));
  const tok = await BpeTokenizer.fromFile(here('./fixtures/tiny-vocab.txt.gz'));
  const n = fx.texts.length;

  it('text embeddings to 1e-4', async () => {
    const s = await Session.create(serialize(textGraph(w.config, { values: w.tensors })));
    const { text } = await s.run({ tokens: tokensTensor(tok.tokenize(fx.texts, C), n) });
    expect(text.dims).toEqual(fx.text.shape);
    expect(relErr(text.data as Float32Array, decode(fx.text))).toBeLessThan(1e-4);
  });

  it('image embeddings, patch embeddings and patch–text scores to 1e-4', async () => {
    const bt = fx.backboneTokens;
    const s = await Session.create(serialize(visionHeadGraph(w.config, fx.registers, bt.shape[1], { values: w.tensors })));
    const out = await s.run({ tokens: hostTensor('float32', bt.shape, Float32Array.from(decode(bt))) });
    expect(relErr(out.image.data as Float32Array, decode(fx.image))).toBeLessThan(1e-4);
    expect(relErr(out.patches.data as Float32Array, decode(fx.patches))).toBeLessThan(1e-4);
    // Scores: the text embedding's second half against each patch, both normalised.
    const ts = await Session.create(serialize(textGraph(w.config, { values: w.tensors })));
    const text = (await ts.run({ tokens: tokensTensor(tok.tokenize(fx.texts, C), n) })).text.data as Float32Array;
    const E = w.config.embedDim;
    const H = E / 2;
    const [B, N] = fx.scores.shape;
    const p = out.patches.data as Float32Array;
    const scores = new Float64Array(B * N * n);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < N; i++)
        for (let t = 0; t < n; t++) {
          let dot = 0;
          let pp = 0;
          let tt = 0;
          for (let k = 0; k < H; k++) {
            const pv = p[(b * N + i) * H + k];
            const tv = text[t * E + H + k];
            dot += pv * tv;
            pp += pv * pv;
            tt += tv * tv;
          }
          scores[(b * N + i) * n + t] = dot / Math.sqrt(pp * tt);
        }
    expect(relErr(scores, decode(fx.scores))).toBeLessThan(1e-4);
  });

  it('the text tower exported to ONNX runs at any batch size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinotxt-'));
    dirs.push(dir);
    const path = join(dir, 'text.onnx');
    await exportTextOnnx(path, w.config, w.tensors);
    const s = await Session.create(readFileSync(path));
    const ref = decode(fx.text);
    const E = w.config.embedDim;
    for (const pick of [[0], [3, 5, 7]]) {
      const ids = tok.tokenize(
        pick.map((i) => fx.texts[i]),
        C,
      );
      const { text } = await s.run({ tokens: tokensTensor(ids, pick.length) });
      const want = pick.flatMap((i) => Array.from(ref.subarray(i * E, (i + 1) * E)));
      expect(relErr(text.data as Float32Array, want)).toBeLessThan(1e-4);
    }
  });

  it('backbone + head on images equals the backbone graph followed by the head graph', async () => {
    const vit = vitConfig('tiny', { arch: 'dinov3', dim: 32, heads: 2, depth: 1, patchSize: 4, registers: fx.registers });
    const vitValues = initParams(vit, 3);
    const images = hostTensor(
      'float32',
      [1, 3, 12, 16],
      Float32Array.from({ length: 3 * 12 * 16 }, (_, i) => Math.sin(i * 0.37)),
    );
    const whole = await Session.create(serialize(dinoTxtVisionGraph(vit, vitValues, w.config, w.tensors, { backbonePatches: true })));
    const a = await whole.run({ images });
    const ig = inferenceGraph(vit, { batch: 1, height: 12, width: 16, weights: 'initializers', values: vitValues });
    const bb = await (await Session.create(serialize(ig.graph))).run({ images });
    const T = 1 + fx.registers + 12;
    const tokens = new Float32Array(T * 32);
    tokens.set(bb.cls.data as Float32Array, 0);
    tokens.set(bb.registers.data as Float32Array, 32);
    tokens.set(bb.patches.data as Float32Array, 32 * (1 + fx.registers));
    const head = await Session.create(serialize(visionHeadGraph(w.config, fx.registers, T, { values: w.tensors })));
    const b = await head.run({ tokens: hostTensor('float32', [1, T, 32], tokens) });
    expect(a.patches.dims).toEqual([1, 12, 16]);
    expect(relErr(a.patches.data as Float32Array, b.patches.data as Float32Array)).toBeLessThan(1e-5);
    expect(relErr(a.image.data as Float32Array, b.image.data as Float32Array)).toBeLessThan(1e-5);
    expect(relErr(a.backbonePatches.data as Float32Array, bb.patches.data as Float32Array)).toBeLessThan(1e-6);
  });
});
