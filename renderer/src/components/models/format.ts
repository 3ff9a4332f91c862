// How model facts read in the Models panel.
import type { ModelInfo } from '../../../../core/common/api.js';

/** 21.6M, 304M, 1.1B. */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)}M`;
  return `${Math.round(n / 1e3)}K`;
}

const LETTER: Record<string, string> = { tiny: 'Ti', small: 'S', base: 'B', large: 'L' };
/** The named sizes' widths (ViT-Ti 192, S 384, B 768, L 1024). */
const WIDTH_LETTER: Record<number, string> = { 192: 'Ti', 384: 'S', 768: 'B', 1024: 'L' };

/** "ViT-S/14"; a named size's width at another depth "ViT-Ti/16 · 6 blocks" (the Quick preset's model); any
 * other "ViT 320×8/16" (width × depth / patch). */
export function sizeLabel(m: Pick<ModelInfo, 'size' | 'patchSize' | 'dim' | 'depth'>): string {
  if (LETTER[m.size]) return `ViT-${LETTER[m.size]}/${m.patchSize}`;
  if (WIDTH_LETTER[m.dim]) return `ViT-${WIDTH_LETTER[m.dim]}/${m.patchSize} · ${m.depth} block${m.depth === 1 ? '' : 's'}`;
  return `ViT ${m.dim}×${m.depth}/${m.patchSize}`;
}

const archLabel = (arch: ModelInfo['arch']): string => (arch === 'dinov2' ? 'DINOv2' : 'DINOv3');

/** "DINOv2 · ViT-S/14 · 4 registers · SwiGLU". */
export function describeModel(m: Pick<ModelInfo, 'arch' | 'size' | 'patchSize' | 'registers' | 'ffn' | 'dim' | 'depth'>): string {
  const regs = `${m.registers} register${m.registers === 1 ? '' : 's'}`;
  return [archLabel(m.arch), sizeLabel(m), regs, ...(m.ffn === 'swiglu' ? ['SwiGLU'] : [])].join(' · ');
}

/** A model in a picker: "quick-0412 (DINOv2 ViT-Ti/16 · 6 blocks, project)". */
export function pickerLabel(m: Pick<ModelInfo, 'name' | 'arch' | 'size' | 'patchSize' | 'dim' | 'depth' | 'location'>): string {
  return `${m.name} (${archLabel(m.arch)} ${sizeLabel(m)}, ${m.location})`;
}
