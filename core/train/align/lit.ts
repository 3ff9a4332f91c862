// LiT alignment ("Locked-image Tuning", Zhai et al. 2022; dino.txt's recipe, dinov3/eval/text/
// train_dinotxt.py): the backbone stays frozen, the text tower and the vision head learn from
// image-region/caption pairs with the symmetric contrastive (CLIP) loss over a batch:
//   logits = e^s · norm(image embeddings) · norm(text embeddings)ᵀ,  loss = ½ (CE(logits) + CE(logitsᵀ)),
// the matching pair on the diagonal. The frozen backbone's tokens of every region are computed once
// (the region read at level 0, resampled to a fixed square of `cropPatches` patches). Gradients come from
// core/graph's autodiff in one onnxruntime session; AdamW updates run on the host (the towers are small
// next to the backbone).
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader } from '../../data/reader.js';
import { openImage } from '../../data/readers/registry.js';
import { normaliseInto } from '../../features/extract/pixels.js';
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { add, exp, mul, neg } from '../../graph/ops/elementwise.js';
import { matmul } from '../../graph/ops/linalg.js';
import { l2Normalize, logSoftmax } from '../../graph/ops/nn.js';
import { reduceMean, reduceSum } from '../../graph/ops/reduce.js';
import { reshape, transpose } from '../../graph/ops/shape.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import type { Job } from '../../jobs/registry.js';
import type { ViTConfig } from '../../model/config.js';
import { inferenceGraph } from '../../model/inference.js';
import { Rng } from '../../model/params.js';
import { type DinoTxtConfig } from '../../model/text/config.js';
import { dinoTxtFromGraph, dinoTxtGraphParams, dinoTxtParamSpecs, dinoTxtToGraph, LOGIT_SCALE } from '../../model/text/params.js';
import { buildTextTower } from '../../model/text/text-tower.js';
import type { BpeTokenizer } from '../../model/text/tokenizer.js';
import { buildVisionHead } from '../../model/text/vision-head.js';
import { readablePath } from '../../project/importer.js';
import type { Project } from '../../project/project.js';
import type { AlignPair } from './pairs.js';

export interface LitOptions {
  steps: number;
  /** Pairs per step (drawn at random; a contrastive batch needs ≥ 2). */
  batch: number;
  lr: number;
  weightDecay: number;
  /** Side of the square each region is resampled to, in patches. */
  cropPatches: number;
  seed: number;
}

export const LIT_DEFAULTS: LitOptions = { steps: 200, batch: 32, lr: 1e-3, weightDecay: 0.01, cropPatches: 8, seed: 0 };

export interface LitResult {
  tensors: Map<string, HostTensor<'float32'>>;
  /** Loss per step. */
  losses: number[];
  seconds: number;
}

/** Fresh dino.txt weights (the official init_weights' scales): embeddings 0.02 / 0.01, Linear in^-½,
 * norms 1 and 0, LayerScale 1e-5, logit scale ln(1/0.07). PyTorch layout. */
export function initDinoTxt(c: DinoTxtConfig, seed: number): Map<string, HostTensor<'float32'>> {
  const rng = new Rng(seed);
  const out = new Map<string, HostTensor<'float32'>>();
  for (const s of dinoTxtParamSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    const name = s.name;
    if (name === LOGIT_SCALE) d.fill(Math.log(1 / 0.07));
    else if (name.endsWith('token_embedding.weight')) for (let i = 0; i < n; i++) d[i] = 0.02 * rng.normal();
    else if (name.endsWith('positional_embedding')) for (let i = 0; i < n; i++) d[i] = 0.01 * rng.normal();
    else if (/\.ls[12]\.gamma$/.test(name)) d.fill(1e-5);
    else if (s.shape.length === 2) for (let i = 0; i < n; i++) d[i] = rng.normal() / Math.sqrt(s.shape[1]);
    else if (/norm[12]?\.weight$|ln_final\.weight$/.test(name)) d.fill(1);
    out.set(name, hostTensor('float32', s.shape, d));
  }
  return out;
}

/** Nearest-neighbour resample of RGB (h, w, 3) to side × side. */
function resample(
  rgb: { data: Uint8Array; width: number; height: number },
  side: number,
): { data: Uint8Array; width: number; height: number } {
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    const sy = Math.min(rgb.height - 1, Math.floor(((y + 0.5) * rgb.height) / side));
    for (let x = 0; x < side; x++) {
      const sx = Math.min(rgb.width - 1, Math.floor(((x + 0.5) * rgb.width) / side));
      out.set(rgb.data.subarray(3 * (sy * rgb.width + sx), 3 * (sy * rgb.width + sx) + 3), 3 * (y * side + x));
    }
  }
  return { data: out, width: side, height: side };
}

/** The frozen backbone's normed [CLS, registers, patches] of every pair's region: (pairs, T, D). */
export async function regionTokens(
  project: Project,
  pairs: readonly AlignPair[],
  vit: ViTConfig,
  vitValues: Record<string, HostTensor>,
  cropPatches: number,
  job?: Job,
): Promise<Float32Array> {
  const side = cropPatches * vit.patchSize;
  const ig = inferenceGraph(vit, { batch: 1, height: side, width: side, weights: 'initializers', values: vitValues });
  const s = await Session.create(serialize(ig.graph), { intraOpThreads: 1, interOpThreads: 1 });
  const T = 1 + vit.registers + cropPatches * cropPatches;
  const D = vit.dim;
  const out = new Float32Array(pairs.length * T * D);
  const readers = new Map<string, ImageReader>();
  try {
    for (const [i, p] of pairs.entries()) {
      job?.throwIfCancelled();
      let r = readers.get(p.imageId);
      if (!r) {
        r = await openImage(readablePath(project, project.requireImage(p.imageId)));
        readers.set(p.imageId, r);
      }
      const rgb = await r.readRegion(
        0,
        Math.round(p.x),
        Math.round(p.y),
        Math.max(1, Math.round(p.width)),
        Math.max(1, Math.round(p.height)),
      );
      const images = new Float32Array(3 * side * side);
      normaliseInto(resample(rgb, side), images, 0);
      const o = await s.run({ images: hostTensor('float32', [1, 3, side, side], images) });
      const base = i * T * D;
      out.set(o.cls.data as Float32Array, base);
      out.set(o.registers.data as Float32Array, base + D);
      out.set(o.patches.data as Float32Array, base + (1 + vit.registers) * D);
      job?.progress(i + 1, pairs.length, `backbone features of region ${i + 1}/${pairs.length}`);
    }
  } finally {
    for (const r of readers.values()) await r.close();
    await s.release();
  }
  return out;
}

/** The training graph: inputs 'tokens' (B, T, D) and 'text' (B, C) int64 → 'loss' and 'grad:<name>' per parameter. */
function lossGraph(c: DinoTxtConfig, registers: number, B: number, T: number): { graph: Graph; names: string[] } {
  const g = new Graph('dinoscope_lit');
  const tokens = g.input('tokens', [B, T, c.visionDim], 'float32', 'frozen backbone tokens');
  const text = g.input('text', [B, c.contextLength], 'int64', 'caption token ids');
  const p = dinoTxtGraphParams(g, c, ['text', 'vision', 'scale']);
  const img = l2Normalize(buildVisionHead(g, tokens, registers, c, p).image); // (B, E)
  const txt = l2Normalize(buildTextTower(g, text, c, p)); // (B, E)
  const scale = exp(reshape(p[LOGIT_SCALE], [1, 1])); // (1, 1)
  const logits = mul(matmul(img, transpose(txt, [1, 0])), scale); // (B, B)
  const eye = g.constant(
    hostTensor(
      'float32',
      [B, B],
      Float32Array.from({ length: B * B }, (_, i) => (i % (B + 1) === 0 ? 1 : 0)),
    ),
    'eye',
  );
  const ce = (l: ReturnType<typeof mul>): ReturnType<typeof mul> => neg(reduceMean(reduceSum(mul(logSoftmax(l, 1), eye), [1]))); // mean −log p(match)
  const loss = mul(add(ce(logits), ce(transpose(logits, [1, 0]))), 0.5);
  g.output(loss, 'loss');
  const names = Object.keys(p);
  const grads = grad(
    loss,
    names.map((n) => p[n]),
  );
  grads.forEach((t, i) => g.output(t, `grad:${names[i]}`));
  return { graph: g, names };
}

/**
 * Trains the text tower and vision head of `start` (PyTorch layout) on the pairs' frozen backbone tokens;
 * reports each step to the job (progress, ETA, cancel between steps).
 */
export async function trainLit(
  c: DinoTxtConfig,
  registers: number,
  tokens: Float32Array,
  captions: readonly string[],
  tokenizer: BpeTokenizer,
  start: ReadonlyMap<string, HostTensor<'float32'>>,
  o: LitOptions,
  job?: Job,
): Promise<LitResult> {
  const t0 = performance.now();
  const n = captions.length;
  const B = Math.min(o.batch, n);
  if (B < 2) throw new DinoscopeError('BAD_INPUT', 'A contrastive batch needs at least 2 pairs.');
  const T = tokens.length / (n * c.visionDim);
  const C = c.contextLength;
  const ids = tokenizer.tokenize(captions, C);
  const { graph, names } = lossGraph(c, registers, B, T);
  const session = await Session.create(serialize(graph), { intraOpThreads: 1, interOpThreads: 1 });
  // Parameters and AdamW moments in graph layout.
  const params = new Map(names.map((k) => [k, dinoTxtToGraph(k, start.get(k)!)] as const));
  const m = new Map(names.map((k) => [k, new Float32Array(params.get(k)!.data.length)]));
  const v = new Map(names.map((k) => [k, new Float32Array(params.get(k)!.data.length)]));
  const decays = new Set(names.filter((k) => params.get(k)!.dims.length === 2 && !k.endsWith('embedding.weight')));
  const rng = new Rng(o.seed + 1);
  const losses: number[] = [];
  const [b1, b2, eps] = [0.9, 0.98, 1e-6];
  const warmup = Math.max(1, Math.round(o.steps / 10));
  const D = c.visionDim;
  try {
    for (let step = 1; step <= o.steps; step++) {
      job?.throwIfCancelled();
      // A batch of distinct pairs.
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.uniform() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const pick = order.slice(0, B);
      const bt = new Float32Array(B * T * D);
      const bx = new BigInt64Array(B * C);
      pick.forEach((p, b) => {
        bt.set(tokens.subarray(p * T * D, (p + 1) * T * D), b * T * D);
        bx.set(ids.subarray(p * C, (p + 1) * C), b * C);
      });
      const feeds: Record<string, HostTensor> = { tokens: hostTensor('float32', [B, T, D], bt), text: hostTensor('int64', [B, C], bx) };
      for (const [k, t] of params) feeds[k] = t;
      const out = await session.run(feeds);
      const loss = (out.loss.data as Float32Array)[0];
      if (!Number.isFinite(loss))
        throw new DinoscopeError('BAD_INPUT', `LiT alignment: the loss became ${loss} at step ${step}; lower --lr.`);
      losses.push(loss);
      // Linear warm-up, then cosine decay.
      const lr =
        step <= warmup ? (o.lr * step) / warmup : 0.5 * o.lr * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, o.steps - warmup)));
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      for (const k of names) {
        const w = params.get(k)!.data as Float32Array;
        const gk = out[`grad:${k}`].data as Float32Array;
        const mk = m.get(k)!;
        const vk = v.get(k)!;
        const wd = decays.has(k) ? o.weightDecay : 0;
        for (let i = 0; i < w.length; i++) {
          mk[i] = b1 * mk[i] + (1 - b1) * gk[i];
          vk[i] = b2 * vk[i] + (1 - b2) * gk[i] * gk[i];
          w[i] -= lr * (mk[i] / c1 / (Math.sqrt(vk[i] / c2) + eps) + wd * w[i]);
        }
      }
      // CLIP clamps the learned temperature at 100.
      const s = params.get(LOGIT_SCALE)!.data as Float32Array;
      s[0] = Math.min(s[0], Math.log(100));
      job?.progress(step, o.steps, `step ${step}/${o.steps}, loss ${loss.toFixed(3)}`);
    }
  } finally {
    await session.release();
  }
  const tensors = new Map<string, HostTensor<'float32'>>();
  for (const [k, t] of params) tensors.set(k, dinoTxtFromGraph(k, t) as HostTensor<'float32'>);
  return { tensors, losses, seconds: (performance.now() - t0) / 1000 };
}
