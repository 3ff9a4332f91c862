// Vision Transformer configuration: DINOv2 and DINOv3 styles with register tokens
// (shared/reference/dino-recipes.md §1). One typed config with a reason beside every default; callers
// build one with `vitConfig(size, overrides)`, which rejects unknown keys and impossible combinations.
import { DinoscopeError } from '../common/errors.js';

export type ViTArch = 'dinov2' | 'dinov3';
export type ViTSize = 'tiny' | 'small' | 'base' | 'large';
export type FfnKind = 'mlp' | 'swiglu';

/** DINOv2's learned position embedding and how it is resized to other grids. */
export interface PosEmbedConfig {
  /** M: the learned grid is M × M (37 for the released 518/14 models, 16 for 224/14 training). */
  gridSize: number;
  /**
   * 'offset': bicubic with scale_factor (out + 0.1) / M, no antialias (non-register models, default
   * train config). 'size-antialias': bicubic with size=(out), antialias (the _reg hub models, HF).
   * 'size': bicubic with size=(out), no antialias (other ports that resize by size).
   */
  variant: 'offset' | 'size-antialias' | 'size';
}

/** DINOv3's training-only RoPE coordinate augmentation; null turns one off. */
export interface RopeAugConfig {
  /** (y, x) += U(−s, s), one draw per axis. */
  shift: number | null;
  /** (y, x) *= exp(U(−ln J, ln J)), one draw per axis. */
  jitter: number | null;
  /** (y, x) *= exp(U(−ln R, ln R)), one draw shared by both axes (released models: R = 2). */
  rescale: number | null;
}

/** DINOv3's axial rotary position embedding on patch tokens. */
export interface RopeConfig {
  /** period_j = base^(4j/d) for head size d (released models: 100). */
  base: number;
  /** Coordinates per axis 2(r + 0.5)/H − 1 in (−1, 1) (the released models' 'separate'). */
  normalizeCoords: 'separate';
  augment: RopeAugConfig;
}

export interface ViTConfig {
  arch: ViTArch;
  /** 14 for DINOv2, 16 for DINOv3. */
  patchSize: number;
  /** Input channels (RGB). */
  inChans: number;
  /** D: token width. */
  dim: number;
  depth: number;
  heads: number;
  /** Register tokens (DINOv2 register_tokens, DINOv3 storage_tokens); 0 allowed. */
  registers: number;
  ffn: FfnKind;
  /** Hidden width of the FFN before the SwiGLU 2/3 rule: ffnRatio · D. */
  ffnRatio: number;
  /** DINOv3 SwiGLU rounds its hidden width up to a multiple of this (8; 64 for 'swiglu64'). */
  swigluAlign: number;
  layerScale: { enabled: boolean; init: number };
  qkvBias: boolean;
  /** DINOv3: the k third of the qkv bias is masked to 0 (keys carry no bias). */
  maskKBias: boolean;
  /** LayerNorm epsilon: 1e-6 (v2), 1e-5 (v3). */
  eps: number;
  /** DINOv2 only (null for v3). */
  posEmbed: PosEmbedConfig | null;
  /** DINOv3 only (null for v2). */
  rope: RopeConfig | null;
}

/** Width, depth and heads of the named sizes. */
export const VIT_SIZES: Record<ViTSize, { dim: number; depth: number; heads: number }> = {
  tiny: { dim: 192, depth: 12, heads: 3 },
  small: { dim: 384, depth: 12, heads: 6 },
  base: { dim: 768, depth: 12, heads: 12 },
  large: { dim: 1024, depth: 24, heads: 16 },
};

/** Overrides accepted by `vitConfig`: any top-level key, nested objects partially. */
export type ViTOverrides = Partial<Omit<ViTConfig, 'posEmbed' | 'rope' | 'layerScale'>> & {
  posEmbed?: Partial<PosEmbedConfig> | null;
  rope?: (Partial<Omit<RopeConfig, 'augment'>> & { augment?: Partial<RopeAugConfig> }) | null;
  layerScale?: Partial<ViTConfig['layerScale']>;
};

function defaults(arch: ViTArch, registers: number): ViTConfig {
  const common = {
    inChans: 3,
    registers,
    ffn: 'mlp' as FfnKind,
    ffnRatio: 4,
    swigluAlign: 8,
    layerScale: { enabled: true, init: 1e-5 }, // training init (v2 and v3)
    qkvBias: true,
  };
  if (arch === 'dinov2') {
    return {
      ...common,
      arch,
      patchSize: 14,
      dim: 384,
      depth: 12,
      heads: 6,
      maskKBias: false,
      eps: 1e-6,
      // The _reg models resize by size with antialias; models without registers use the 0.1 offset.
      posEmbed: { gridSize: 37, variant: registers > 0 ? 'size-antialias' : 'offset' },
      rope: null,
    };
  }
  return {
    ...common,
    arch,
    patchSize: 16,
    dim: 384,
    depth: 12,
    heads: 6,
    maskKBias: true, // all released v3 models
    eps: 1e-5,
    posEmbed: null,
    // Released models train with rescale 2 only (shift and jitter off).
    rope: { base: 100, normalizeCoords: 'separate', augment: { shift: null, jitter: null, rescale: 2 } },
  };
}

const TOP_KEYS = new Set<string>([
  'arch',
  'patchSize',
  'inChans',
  'dim',
  'depth',
  'heads',
  'registers',
  'ffn',
  'ffnRatio',
  'swigluAlign',
  'layerScale',
  'qkvBias',
  'maskKBias',
  'eps',
  'posEmbed',
  'rope',
]);

function bad(msg: string): never {
  throw new DinoscopeError('BAD_INPUT', `ViT config: ${msg}`);
}

function checkKeys(obj: object, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) bad(`unknown key ${where}${k}`);
}

/**
 * A full config for a named size: `vitConfig('small', { arch: 'dinov2', registers: 4 })`.
 * Defaults (per arch, from the released models): v2 patch 14, eps 1e-6, pos-embed grid 37; v3 patch 16,
 * eps 1e-5, RoPE base 100 with rescale 2, mask_k_bias; both 4 registers, MLP ×4, LayerScale 1e-5.
 * Unknown keys and inconsistent values throw BAD_INPUT.
 */
export function vitConfig(size: ViTSize, overrides: ViTOverrides = {}): ViTConfig {
  if (!(size in VIT_SIZES)) bad(`unknown size ${String(size)} (tiny, small, base, large)`);
  checkKeys(overrides, [...TOP_KEYS], '');
  const arch = overrides.arch ?? 'dinov2';
  if (arch !== 'dinov2' && arch !== 'dinov3') bad(`arch must be dinov2 or dinov3, got ${String(arch)}`);
  const base = defaults(arch, overrides.registers ?? 4);
  const { posEmbed, rope, layerScale, ...rest } = overrides;
  const cfg: ViTConfig = { ...base, ...VIT_SIZES[size], ...rest };
  if (layerScale) {
    checkKeys(layerScale, ['enabled', 'init'], 'layerScale.');
    cfg.layerScale = { ...base.layerScale, ...layerScale };
  }
  if (posEmbed === null) cfg.posEmbed = null;
  else if (posEmbed) {
    checkKeys(posEmbed, ['gridSize', 'variant'], 'posEmbed.');
    cfg.posEmbed = { ...(base.posEmbed ?? { gridSize: 37, variant: 'offset' }), ...posEmbed };
  }
  if (rope === null) cfg.rope = null;
  else if (rope) {
    checkKeys(rope, ['base', 'normalizeCoords', 'augment'], 'rope.');
    const r = base.rope ?? { base: 100, normalizeCoords: 'separate', augment: { shift: null, jitter: null, rescale: null } };
    if (rope.augment) checkKeys(rope.augment, ['shift', 'jitter', 'rescale'], 'rope.augment.');
    cfg.rope = { ...r, ...rope, augment: { ...r.augment, ...(rope.augment ?? {}) } };
  }
  validateConfig(cfg);
  return cfg;
}

const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;

/** Throws BAD_INPUT naming the first inconsistency (also for configs read from disk). */
export function validateConfig(c: ViTConfig): void {
  checkKeys(c, [...TOP_KEYS], '');
  for (const k of ['patchSize', 'inChans', 'dim', 'depth', 'heads'] as const)
    if (!posInt(c[k])) bad(`${k} must be a positive integer, got ${c[k]}`);
  if (!Number.isInteger(c.registers) || c.registers < 0) bad(`registers must be an integer ≥ 0, got ${c.registers}`);
  if (c.dim % c.heads) bad(`dim ${c.dim} is not divisible by heads ${c.heads}`);
  if (c.ffn !== 'mlp' && c.ffn !== 'swiglu') bad(`ffn must be mlp or swiglu, got ${String(c.ffn)}`);
  if (!(c.ffnRatio > 0)) bad(`ffnRatio must be positive, got ${c.ffnRatio}`);
  if (!posInt(c.swigluAlign)) bad(`swigluAlign must be a positive integer, got ${c.swigluAlign}`);
  if (!(c.eps > 0)) bad(`eps must be positive, got ${c.eps}`);
  if (c.arch === 'dinov2') {
    if (!c.posEmbed) bad('dinov2 needs posEmbed');
    if (c.rope) bad('dinov2 has no rope (set rope: null)');
    if (c.maskKBias) bad('maskKBias is a dinov3 feature');
    if (!posInt(c.posEmbed.gridSize)) bad(`posEmbed.gridSize must be a positive integer, got ${c.posEmbed.gridSize}`);
    if (!['offset', 'size-antialias', 'size'].includes(c.posEmbed.variant))
      bad(`posEmbed.variant must be offset, size-antialias or size, got ${String(c.posEmbed.variant)}`);
  } else {
    if (!c.rope) bad('dinov3 needs rope');
    if (c.posEmbed) bad('dinov3 has no learned pos-embed (set posEmbed: null)');
    if ((c.dim / c.heads) % 4) bad(`RoPE needs a head size divisible by 4, got ${c.dim / c.heads}`);
    if (!(c.rope.base > 0)) bad(`rope.base must be positive, got ${c.rope.base}`);
    if (c.rope.normalizeCoords !== 'separate') bad(`rope.normalizeCoords must be separate, got ${String(c.rope.normalizeCoords)}`);
    const a = c.rope.augment;
    if (a.shift !== null && !(a.shift >= 0)) bad(`rope.augment.shift must be ≥ 0 or null, got ${a.shift}`);
    if (a.jitter !== null && !(a.jitter >= 1)) bad(`rope.augment.jitter must be ≥ 1 or null, got ${a.jitter}`);
    if (a.rescale !== null && !(a.rescale >= 1)) bad(`rope.augment.rescale must be ≥ 1 or null, got ${a.rescale}`);
  }
  if (c.maskKBias && !c.qkvBias) bad('maskKBias needs qkvBias');
}

/** Head size d = D / h. */
export const headDim = (c: ViTConfig): number => c.dim / c.heads;

/**
 * The FFN hidden width. MLP: int(ffnRatio · D). SwiGLU v2 (SwiGLUFFNFused): h' = ((int(h·2/3) + 7) // 8) · 8.
 * SwiGLU v3: d = int(h·2/3) rounded up to a multiple of swigluAlign.
 */
export function ffnHidden(c: ViTConfig): number {
  const h = Math.floor(c.ffnRatio * c.dim);
  if (c.ffn === 'mlp') return h;
  const d = Math.floor((h * 2) / 3);
  if (c.arch === 'dinov2') return Math.floor((d + 7) / 8) * 8;
  return Math.ceil(d / c.swigluAlign) * c.swigluAlign;
}

/** Grid (rows, cols) of patches for an H × W input; throws BAD_INPUT unless both divide by the patch size. */
export function patchGrid(c: ViTConfig, height: number, width: number): { h: number; w: number } {
  const p = c.patchSize;
  if (!posInt(height) || !posInt(width) || height % p || width % p)
    bad(`input ${height}×${width} is not a multiple of the patch size ${p}`);
  return { h: height / p, w: width / p };
}
