// The explicit list of checkpoint layouts, in detection order (most specific first).
import { DinoscopeError } from '../../../common/errors.js';
import { hfDinov2Layout } from './hf-dinov2.js';
import { hfDinov3Layout } from './hf-dinov3.js';
import { originalLayout } from './original.js';
import { timmLayout } from './timm.js';
import type { Layout, LayoutId, ShapeMap } from './types.js';

export const layouts: readonly Layout[] = [hfDinov2Layout, hfDinov3Layout, originalLayout, timmLayout];

export function layoutById(id: LayoutId): Layout {
  const l = layouts.find((x) => x.id === id);
  if (!l) throw new DinoscopeError('BAD_INPUT', `Unknown weight layout "${id}" (known: ${layouts.map((x) => x.id).join(', ')}).`);
  return l;
}

/** The layout whose keys these are, or null. */
export function detectLayout(shapes: ShapeMap, configJson: Record<string, unknown> | null): Layout | null {
  return layouts.find((l) => l.detect(shapes, configJson)) ?? null;
}
