// How model facts read in the Models panel.
import type { ModelInfo } from '../../../../core/common/api.js';

/** 21.6M, 304M, 1.1B. */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)}M`;
  return `${Math.round(n / 1e3)}K`;
}

/** "DINOv2 ViT-S/14 · 4 registers · SwiGLU". */
export function describeModel(m: Pick<ModelInfo, 'arch' | 'size' | 'patchSize' | 'registers' | 'ffn' | 'dim' | 'depth'>): string {
  const arch = m.arch === 'dinov2' ? 'DINOv2' : 'DINOv3';
  const letter: Record<string, string> = { tiny: 'Ti', small: 'S', base: 'B', large: 'L' };
  const size = letter[m.size] ? `ViT-${letter[m.size]}/${m.patchSize}` : `ViT ${m.dim}×${m.depth}/${m.patchSize}`;
  const regs = `${m.registers} register${m.registers === 1 ? '' : 's'}`;
  return [arch, size, regs, ...(m.ffn === 'swiglu' ? ['SwiGLU'] : [])].join(' · ');
}
