// Where each tissue type lies on a demo image: a wobbly ellipse of "tissue" on a plain background, cut
// into Voronoi regions around seeded centres, each centre one texture (textures.ts). Every image shows
// every texture at least once, in a different arrangement, so a click on one image has matches on all
// the others. regionAt is the ground truth the tests (and anyone checking the demo's search) compare to.
import { mulberry32 } from '../common/random.js';
import { TEXTURE_COUNT } from './textures.js';

/** regionAt's answer outside the tissue. */
export const BACKGROUND = -1;

export interface DemoLayout {
  side: number;
  /** Regions are constant on q × q pixel squares (evaluated at their centres): renderers compute one value per square. */
  q: number;
  /** Voronoi centres in level-0 pixels, each with its texture index. */
  seeds: { x: number; y: number; texture: number }[];
  /** Tissue outline: an ellipse (centre, radii) whose radius wobbles with the angle. */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Radial wobble: relative amplitude and phase of three harmonics. */
  wobble: { k: number; amp: number; phase: number }[];
}

/** Voronoi seeds per image: two per texture, so regions are large but not all quadrants. */
const SEEDS_PER_TEXTURE = 2;

/** The seeded layout of demo image `image` (side × side px, regions constant on q × q squares). */
export function demoLayout(image: number, side: number, seed: number, q = 1): DemoLayout {
  const u = mulberry32((seed * 7919 + image * 104729) >>> 0);
  const margin = side * 0.18;
  const seeds: DemoLayout['seeds'] = [];
  // Textures in a per-image rotation so neighbours differ between images.
  for (let r = 0; r < SEEDS_PER_TEXTURE; r++) {
    for (let t = 0; t < TEXTURE_COUNT; t++) {
      seeds.push({ x: margin + u() * (side - 2 * margin), y: margin + u() * (side - 2 * margin), texture: (t + image) % TEXTURE_COUNT });
    }
  }
  const wobble = [2, 3, 5].map((k) => ({ k, amp: 0.03 + 0.04 * u(), phase: 2 * Math.PI * u() }));
  return { side, q, seeds, cx: side / 2, cy: side / 2, rx: side * (0.42 + 0.04 * u()), ry: side * (0.38 + 0.04 * u()), wobble };
}

/** True inside the tissue outline. */
export function inTissue(l: DemoLayout, x: number, y: number): boolean {
  const dx = (x - l.cx) / l.rx;
  const dy = (y - l.cy) / l.ry;
  const a = Math.atan2(dy, dx);
  let r = 1;
  for (const w of l.wobble) r += w.amp * Math.sin(w.k * a + w.phase);
  return dx * dx + dy * dy < r * r;
}

/** Index of the nearest seed (the Voronoi cell) of level-0 pixel (x, y). */
export function cellAt(l: DemoLayout, x: number, y: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < l.seeds.length; i++) {
    const d = (l.seeds[i].x - x) ** 2 + (l.seeds[i].y - y) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Texture index at level-0 pixel (x, y), or BACKGROUND outside the tissue. */
export function regionAt(l: DemoLayout, x: number, y: number): number {
  const cx = (Math.floor(x / l.q) + 0.5) * l.q;
  const cy = (Math.floor(y / l.q) + 0.5) * l.q;
  return inTissue(l, cx, cy) ? l.seeds[cellAt(l, cx, cy)].texture : BACKGROUND;
}

/** regionAt of every q × q square, row-major: (ceil(side / q), ceil(side / q)). */
export function regionGrid(l: DemoLayout): Int8Array {
  const n = Math.ceil(l.side / l.q);
  const out = new Int8Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) out[j * n + i] = regionAt(l, i * l.q, j * l.q);
  return out;
}

/**
 * The texture of a square window (level-0 x, y, side s) when at least `purity` of a 5 × 5 sample of it
 * agrees, else null (the window straddles a boundary): what a patch of that window should match.
 */
export function regionOfWindow(l: DemoLayout, x: number, y: number, s: number, purity = 0.8): number | null {
  const counts = new Map<number, number>();
  for (let j = 0; j < 5; j++)
    for (let i = 0; i < 5; i++) {
      const t = regionAt(l, x + ((i + 0.5) * s) / 5, y + ((j + 0.5) * s) / 5);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
  const [t, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return n >= purity * 25 ? t : null;
}
