// The student step on flat parameter buffers (model.ts: the forward reads views, AdamW updates whole buffers,
// core/graph/optim.ts) against the same step built as before, one graph parameter and one AdamW chain per
// tensor (core/graph/optim-per-tensor.ts, kept as this oracle): the Quick preset's
// groups (backbone with layer-wise lr decay and patch-embed ×0.2, both heads with the last-layer gate,
// clipping per group) on a tiny ViT, 5 steps on CPU (lr 1e-3) with the last layer frozen for the first 2: the
// same losses, gradient norms, parameters and AdamW moments to 1e-5 relative.
import { describe, expect, it } from 'vitest';
import { serialize } from '../graph/onnx.js';
import { optimize } from '../graph/optimize.js';
import { StepRunner } from '../graph/runtime.js';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { patchGrid } from '../model/config.js';
import { maskUpperBound } from '../data/train/masking.js';
import { headConfig, scratchViT, trainConfig } from './config.js';
import { TINY } from './device-state-run.js';
import { initialParams, stepFeeds } from './gpu-check.js';
import { MODEL_PARTS, type ParamLayout, flatName, modelLayouts, packModel, unpackModel } from './model.js';
import { STEP_IO, type StepGraph, buildStepGraph } from './step.js';

const config = trainConfig('quick', TINY);
const vit = scratchViT(config);
const head = headConfig(config, vit);

function stepGraph(params: ParamLayout): StepGraph {
  const { h, w } = patchGrid(vit, config.crops.globalSize, config.crops.globalSize);
  const B = config.batchSize;
  const s = buildStepGraph({
    vit,
    head,
    batch: B,
    globalSize: config.crops.globalSize,
    localSize: config.crops.localSize,
    localCrops: config.crops.localCrops,
    maskSlots: maskUpperBound(2 * B, { gridH: h, gridW: w, maskProbability: config.masking.maskProbability, ratio: config.masking.ratio }),
    loss: config.loss,
    optim: config.optim,
    remat: false,
    gram: null,
    params,
  });
  optimize(s.graph);
  return s;
}

/** ‖a − b‖ / ‖b‖. */
function relNorm(a: HostTensor, b: HostTensor): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.data.length; i++) {
    const [x, y] = [Number(a.data[i]), Number(b.data[i])];
    d += (x - y) ** 2;
    n += y * y;
  }
  return d === 0 ? 0 : Math.sqrt(d / n);
}

/**
 * `t` without the key third of a qkv bias (and of its moments): its true gradient is exactly 0 (softmax is
 * unchanged by a constant added to every key), so what the backward computes there is rounding noise, which
 * Adam normalises into ±lr steps whose signs no two graphs need share.
 */
function comparable(name: string, t: HostTensor): HostTensor {
  if (!name.endsWith('attn.qkv.bias')) return t;
  const D = t.data.length / 3;
  const data = t.data as Float32Array;
  return hostTensor('float32', [2 * D], [...data.subarray(0, D), ...data.subarray(2 * D)]);
}

describe('student step on flat parameter buffers', () => {
  it('equals the per-tensor AdamW step over 5 steps (losses, gradient norms, parameters, moments to 1e-5)', async () => {
    const flat = stepGraph('flat');
    const ref = stepGraph('per-tensor');
    // What the flat form saves: the optimiser's per-tensor chains (~16 nodes a tensor) are gone; what stays per
    // tensor is its gradient's Reshape into the buffer's Concat.
    const optimNodes = (s: StepGraph): number => s.graph.nodes.filter((n) => n.name.startsWith('optim/')).length;
    expect(optimNodes(flat)).toBeLessThan(optimNodes(ref) / 3);
    const runners = await Promise.all(
      [flat, ref].map((s) => StepRunner.create(serialize(s.graph), s.opt.stateMap, { providers: ['cpu'], intraOpThreads: 1 })),
    );
    const params = initialParams(vit, head, 0);
    const layouts = modelLayouts(vit, head);
    [packModel(layouts, params), params].forEach((state, i) => {
      for (const [k, v] of state) runners[i].set(k, v);
    });
    [flat, ref].forEach((s, i) => {
      for (const [k, v] of Object.entries(s.opt.initialState())) runners[i].set(k, v);
    });
    const stateIn = new Set(Object.values(ref.opt.stateMap));
    const inputs = ref.graph.inputs;
    for (let s = 0; s < 5; s++) {
      const feeds = stepFeeds(inputs, stateIn, s);
      feeds[STEP_IO.inputs.lastLayerGate] = hostTensor('float32', [], [s < 2 ? 0 : 1]); // frozen, then trained
      feeds[STEP_IO.inputs.lr] = hostTensor('float32', [], [1e-3]);
      const [a, b] = await Promise.all(runners.map((r) => r.step(feeds)));
      for (const k of ref.outputs) {
        const [x, y] = [Number(a[k].data[0]), Number(b[k].data[0])];
        expect(Math.abs(x - y), `step ${s + 1} ${k}: ${x} vs ${y}`).toBeLessThanOrEqual(1e-5 * Math.abs(y));
      }
    }
    const flatParams = unpackModel(
      layouts,
      new Map(await Promise.all(MODEL_PARTS.map(async (p) => [flatName(p), await runners[0].get(flatName(p))] as const))),
    );
    for (const k of params.keys()) {
      const [x, y] = [flatParams.get(k)!, await runners[1].get(k)];
      expect(relNorm(comparable(k, x), comparable(k, y)), k).toBeLessThanOrEqual(1e-5);
    }
    // The parameters moved (the gate opened) and the last layer was frozen for the first steps only.
    expect(relNorm(flatParams.get('dino_head/last_layer.weight_v')!, params.get('dino_head/last_layer.weight_v')!)).toBeGreaterThan(1e-4);
    const perTensor = async (i: number, s: StepGraph): Promise<Map<string, HostTensor>> =>
      s.opt.perTensor(new Map(await Promise.all(s.opt.stateNames.map(async (n) => [n, await runners[i].get(n)] as const))));
    const [mf, mr] = [await perTensor(0, flat), await perTensor(1, ref)];
    expect([...mf.keys()].sort()).toEqual([...mr.keys()].sort());
    for (const [k, v] of mr) expect(relNorm(comparable(k, mf.get(k)!), comparable(k, v)), k).toBeLessThanOrEqual(1e-5);
    await Promise.all(runners.map((r) => r.session.release()));
  }, 120_000);
});
