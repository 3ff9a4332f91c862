// The parts a CAPI run trains, each one flat buffer (core/graph/flat.ts) and one optimiser group:
//   backbone   the encoder: the repo's ViT (core/model, canonical names), student and EMA teacher
//   predictor  the cross-attention predictor and the student head ('predictor/<official name>')
//   clustering the teacher's online clustering head ('clustering/weight' (D, K), 'clustering/bias'), trained
//              by its own AdamW inside the teacher graph (as the official clustering_optimizer)
// Per-tensor multipliers follow capi/utils.py get_params_groups: no weight decay on biases and LayerScale γ,
// norm weights × normWdMult (0.1), the patch embedding's lr × patchEmbedLrMult (0.2).
import { type FlatLayout, flatLayout, packFlat, unpackFlat } from '../../graph/flat.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { DinoscopeError } from '../../common/errors.js';
import { type ViTConfig } from '../../model/config.js';
import { Rng, graphShape, initParams, paramSpecs, toGraphLayout } from '../../model/params.js';
import { type TrainConfig } from '../config.js';
import { type PredictorConfig, predictorGraphShape, predictorParamSpecs } from './predictor.js';

export const CAPI_PARTS = ['backbone', 'predictor', 'clustering'] as const;
export type CapiPart = (typeof CAPI_PARTS)[number];

/** The graph parameter (and runner state) name of a part's flat buffer. */
export const capiFlatName = (part: CapiPart): string => `flat/${part}`;

export const PREDICTOR_SCOPE = 'predictor/';
export const CLUSTERING_WEIGHT = 'clustering/weight';
export const CLUSTERING_BIAS = 'clustering/bias';

/** The predictor's config for a run: the encoder's width and heads, the run's depth, K and RMSNorm eps. */
export function predictorConfig(c: TrainConfig, vit: ViTConfig): PredictorConfig {
  return { dim: vit.dim, heads: vit.heads, depth: c.capi.predictorDepth, prototypes: c.capi.prototypes, eps: 1e-5 };
}

/** Each part's tensors (graph names and graph shapes) in state order. */
export function capiLayouts(vit: ViTConfig, pred: PredictorConfig): Record<CapiPart, FlatLayout> {
  return {
    backbone: flatLayout(paramSpecs(vit).map((s) => ({ name: s.name, shape: graphShape(s.name, s.shape) }))),
    predictor: flatLayout(predictorParamSpecs(pred).map((s) => ({ name: PREDICTOR_SCOPE + s.name, shape: predictorGraphShape(s) }))),
    clustering: flatLayout([
      { name: CLUSTERING_WEIGHT, shape: [vit.dim, pred.prototypes] },
      { name: CLUSTERING_BIAS, shape: [pred.prototypes] },
    ]),
  };
}

/** Weight-decay multiplier of a tensor (get_params_groups). */
export function capiWdMult(name: string, normWdMult: number): number {
  if (name.endsWith('.bias') || name.includes('gamma') || name === CLUSTERING_BIAS) return 0;
  if (name.includes('norm') && name.includes('weight')) return normWdMult;
  return 1;
}

/** lr multiplier of a tensor (get_params_groups: the patch embedding's). */
export const capiLrMult = (name: string, patchEmbedLrMult: number): number => (name.includes('patch_embed') ? patchEmbedLrMult : 1);

/** A new run's per-tensor parameters (graph layout): the encoder from core/model's init, the predictor and clustering head as the official init_weights. */
export function initCapiParams(vit: ViTConfig, pred: PredictorConfig, seed: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of Object.entries(initParams(vit, seed))) out.set(k, toGraphLayout(k, t));
  const rng = new Rng(seed + 1);
  for (const s of predictorParamSpecs(pred)) {
    const shape = predictorGraphShape(s);
    const t = hostTensor('float32', shape);
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      const init = s.init;
      if (init.kind === 'constant') d[i] = init.value;
      else if (init.kind === 'uniform') d[i] = (2 * rng.uniform() - 1) * init.bound;
      else if (init.kind === 'normal') d[i] = rng.normal() * init.std;
      else {
        let v = rng.normal() * init.std;
        while (v < init.a || v > init.b) v = rng.normal() * init.std;
        d[i] = v;
      }
    }
    out.set(PREDICTOR_SCOPE + s.name, t); // the init is elementwise i.i.d., so the layout does not change it
  }
  // OnlineClustering: weight ~ N(0, 1), bias 0.
  const w = hostTensor('float32', [vit.dim, pred.prototypes]);
  const wr = new Rng(seed + 2);
  for (let i = 0; i < w.data.length; i++) (w.data as Float32Array)[i] = wr.normal();
  out.set(CLUSTERING_WEIGHT, w);
  out.set(CLUSTERING_BIAS, hostTensor('float32', [pred.prototypes]));
  return out;
}

/** The flat buffers of `parts` from per-tensor values; CORRUPT naming what is missing. */
export function packCapi(
  layouts: Record<CapiPart, FlatLayout>,
  values: ReadonlyMap<string, HostTensor>,
  parts: readonly CapiPart[] = CAPI_PARTS,
  what = 'CAPI state',
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const part of parts) {
    try {
      out.set(
        capiFlatName(part),
        packFlat(layouts[part], (n) => values.get(n)),
      );
    } catch (e) {
      throw new DinoscopeError('CORRUPT', `${what}: ${(e as Error).message}.`);
    }
  }
  return out;
}

/** Per-tensor values of the flat buffers present in `flat`. */
export function unpackCapi(layouts: Record<CapiPart, FlatLayout>, flat: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const part of CAPI_PARTS) {
    const b = flat.get(capiFlatName(part));
    if (b) for (const [k, t] of unpackFlat(layouts[part], b)) out.set(k, t);
  }
  return out;
}
