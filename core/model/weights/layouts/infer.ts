// Turning what a checkpoint reveals (tensor shapes, config.json fields) into a validated ViTConfig.
import { DinoscopeError } from '../../../common/errors.js';
import { type FfnKind, type RopeAugConfig, type ViTArch, type ViTConfig, ffnHidden, vitConfig } from '../../config.js';
import type { ShapeMap } from './types.js';

export interface ArchFacts {
  arch: ViTArch;
  dim: number;
  depth: number;
  /** null: take dim / 64 (every released DINOv2/v3 and timm ViT uses 64-wide heads). */
  heads: number | null;
  patchSize: number;
  inChans: number;
  registers: number;
  ffn: FfnKind;
  /** Stored FFN hidden width (w1 / gate rows for SwiGLU v3, w12 rows / 2 for SwiGLU v2, fc1 rows for MLP). */
  hidden: number;
  qkvBias: boolean;
  maskKBias: boolean;
  layerScale: boolean;
  eps: number | null;
  /** DINOv2: the learned pos-embed grid M and how it resizes. */
  pos?: { gridSize: number; variant: 'offset' | 'size-antialias' };
  rope?: { base?: number; augment?: Partial<RopeAugConfig> };
}

/** Builds and validates the config; `source` names the file in errors. */
export function configFromFacts(f: ArchFacts, source: string): ViTConfig {
  const bad = (what: string): never => {
    throw new DinoscopeError('BAD_INPUT', `${source}: ${what}.`);
  };
  let heads = f.heads;
  if (heads === null) {
    if (f.dim % 64 !== 0) bad(`cannot infer the number of attention heads for width ${f.dim}: put a config.json beside the weights`);
    heads = f.dim / 64;
  }
  const ratios: { ffnRatio: number; swigluAlign: number }[] = [];
  if (f.ffn === 'mlp') ratios.push({ ffnRatio: f.hidden / f.dim, swigluAlign: 8 });
  else if (f.arch === 'dinov2') ratios.push({ ffnRatio: 4, swigluAlign: 8 }, { ffnRatio: (f.hidden * 3) / (2 * f.dim), swigluAlign: 8 });
  else for (const swigluAlign of [8, 64]) ratios.push({ ffnRatio: (f.hidden * 3) / (2 * f.dim), swigluAlign });
  const base = {
    arch: f.arch,
    dim: f.dim,
    depth: f.depth,
    heads,
    patchSize: f.patchSize,
    inChans: f.inChans,
    registers: f.registers,
    ffn: f.ffn,
    qkvBias: f.qkvBias,
    maskKBias: f.maskKBias,
    layerScale: { enabled: f.layerScale },
    ...(f.eps !== null ? { eps: f.eps } : {}),
  };
  for (const r of ratios) {
    let cfg: ViTConfig;
    try {
      cfg = vitConfig('small', {
        ...base,
        ...r,
        ...(f.arch === 'dinov2' ? { posEmbed: f.pos ?? null, rope: null } : { posEmbed: null, rope: f.rope ?? {} }),
      });
    } catch (err) {
      return bad(`the weights describe an impossible model (${(err as Error).message})`);
    }
    if (ffnHidden(cfg) === f.hidden) return cfg;
  }
  return bad(`no FFN ratio gives the stored ${f.ffn} hidden width ${f.hidden} at width ${f.dim}`);
}

/** The shape of `name`, or a CORRUPT error listing what the layout needed. */
export function need(shapes: ShapeMap, name: string, rank: number, source: string): readonly number[] {
  const s = shapes.get(name);
  if (!s)
    throw new DinoscopeError('BAD_INPUT', `${source}: the checkpoint has no "${name}" tensor, so its architecture cannot be inferred.`);
  if (s.length !== rank) throw new DinoscopeError('BAD_INPUT', `${source}: "${name}" has shape [${s.join(', ')}], expected rank ${rank}.`);
  return s;
}

export const isSquare = (n: number): boolean => n > 0 && Number.isInteger(Math.sqrt(n));

/** A number field of config.json, or null. */
export function num(json: Record<string, unknown> | null, key: string): number | null {
  const v = json?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function bool(json: Record<string, unknown> | null, key: string): boolean | null {
  const v = json?.[key];
  return typeof v === 'boolean' ? v : null;
}
