// Non-maximum suppression over search hits so a result list shows distinct regions: greedily keep the best
// hit, drop every later hit on the same image within `radius` patches (Chebyshev distance on the grid).
import type { Hit } from './exact.js';

export function nms(hits: readonly Hit[], radius: number, k = Infinity): Hit[] {
  const sorted = [...hits].sort((a, b) => b.score - a.score);
  const kept: Hit[] = [];
  const byImage = new Map<string, Hit[]>();
  for (const h of sorted) {
    if (kept.length >= k) break;
    const same = byImage.get(h.image) ?? [];
    if (same.some((o) => Math.max(Math.abs(o.x - h.x), Math.abs(o.y - h.y)) <= radius)) continue;
    same.push(h);
    byImage.set(h.image, same);
    kept.push(h);
  }
  return kept;
}
