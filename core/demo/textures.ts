// Tissue-like textures of the demo slides, H&E-ish pinks and purples: fibre-like stroma stripes, dense
// tumour-like nuclei, glands (rings of cells around a lumen), fat (large empty cells with thin walls) and
// lymphoid tissue (small dark dots, densely packed), plus a plain background for the tissue mask to skip.
// Blob textures place one seeded blob per cell of a jittered grid (tables built once per image from
// core/common/random.ts), so painting a pixel looks at the 3 × 3 cells around it and nothing else.
import { mulberry32 } from '../common/random.js';

export const TEXTURE_NAMES = ['stroma', 'tumour', 'glands', 'fat', 'lymphoid'] as const;
export const TEXTURE_COUNT = TEXTURE_NAMES.length;

type Rgb = readonly [number, number, number];
export const BACKGROUND_RGB: Rgb = [242, 240, 238];

/** One blob per cell of a c × c jittered grid: centre and radius per cell, row-major (n × n). */
interface Cells {
  c: number;
  n: number;
  x: Float32Array;
  y: Float32Array;
  r: Float32Array;
}

function cells(side: number, c: number, rMin: number, rMax: number, u: () => number): Cells {
  const n = Math.ceil(side / c) + 1;
  const x = new Float32Array(n * n);
  const y = new Float32Array(n * n);
  const r = new Float32Array(n * n);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const k = j * n + i;
      x[k] = (i + 0.15 + 0.7 * u()) * c;
      y[k] = (j + 0.15 + 0.7 * u()) * c;
      r[k] = rMin + (rMax - rMin) * u();
    }
  return { c, n, x, y, r };
}

/** Nearest and second-nearest blob of (x, y): cell index and distances. */
interface Near {
  k: number;
  d1: number;
  d2: number;
}

function nearest(t: Cells, x: number, y: number, out: Near): Near {
  const ci = Math.floor(x / t.c);
  const cj = Math.floor(y / t.c);
  let d1 = Infinity;
  let d2 = Infinity;
  let k1 = 0;
  for (let j = Math.max(0, cj - 1); j <= Math.min(t.n - 1, cj + 1); j++) {
    for (let i = Math.max(0, ci - 1); i <= Math.min(t.n - 1, ci + 1); i++) {
      const k = j * t.n + i;
      const dx = t.x[k] - x;
      const dy = t.y[k] - y;
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d < d1) {
        d2 = d1;
        d1 = d;
        k1 = k;
      } else if (d < d2) d2 = d;
    }
  }
  out.k = k1;
  out.d1 = d1;
  out.d2 = d2;
  return out;
}

function put(out: Uint8Array, o: number, c: Rgb, noise: number): void {
  out[o] = Math.max(0, Math.min(255, c[0] + noise));
  out[o + 1] = Math.max(0, Math.min(255, c[1] + noise));
  out[o + 2] = Math.max(0, Math.min(255, c[2] + noise));
}

/** Linear mix of two colours (w = 0: a, w = 1: b). */
function mix(a: Rgb, b: Rgb, w: number): Rgb {
  return [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w];
}

const STROMA_LIGHT: Rgb = [238, 168, 198];
const STROMA_DARK: Rgb = [196, 84, 138];
const TUMOUR_CYTO: Rgb = [204, 146, 196];
const TUMOUR_NUC: Rgb = [78, 36, 118];
const GLAND_LUMEN: Rgb = [248, 236, 246];
const GLAND_CELL: Rgb = [150, 84, 170];
const GLAND_NUC: Rgb = [70, 30, 110];
const GLAND_STROMA: Rgb = [228, 176, 204];
const FAT_INSIDE: Rgb = [250, 246, 248];
const FAT_WALL: Rgb = [206, 110, 152];
const LYMPH_BG: Rgb = [222, 186, 214];
const LYMPH_DOT: Rgb = [46, 26, 96];

/** The textures of one image at a length scale (1: the full-size demo; 0.25: four times smaller). */
export class TextureField {
  private readonly tumour: Cells;
  private readonly glands: Cells;
  private readonly fat: Cells;
  private readonly lymph: Cells;
  private readonly near: Near = { k: 0, d1: 0, d2: 0 };
  /** Cosine and sine of the stroma fibres' direction. */
  private readonly fibre: [number, number];

  constructor(
    side: number,
    private readonly scale: number,
    seed: number,
  ) {
    const u = mulberry32(seed);
    const s = scale;
    this.tumour = cells(side, 40 * s, 11 * s, 16 * s, u);
    this.glands = cells(side, 220 * s, 75 * s, 100 * s, u);
    this.fat = cells(side, 90 * s, 0, 0, u);
    this.lymph = cells(side, 18 * s, 4.5 * s, 6.5 * s, u);
    const a = 0.5 + 0.4 * u();
    this.fibre = [Math.cos(a), Math.sin(a)];
  }

  /** Writes texture t's RGB at level-0 pixel (x, y) into out[o..o+2], plus `noise` on every channel. */
  paint(t: number, x: number, y: number, out: Uint8Array, o: number, noise: number): void {
    const s = this.scale;
    switch (t) {
      case 0: {
        // Stroma: wavy fibres, period 28 px, bent by a slow sine across them.
        const [c, si] = this.fibre;
        const along = x * c + y * si;
        const across = -x * si + y * c;
        const v = 0.5 + 0.5 * Math.sin((2 * Math.PI * along) / (28 * s) + 2.5 * Math.sin(across / (90 * s)));
        put(out, o, mix(STROMA_LIGHT, STROMA_DARK, v * v), noise);
        return;
      }
      case 1: {
        const n = nearest(this.tumour, x, y, this.near);
        put(out, o, n.d1 < this.tumour.r[n.k] ? TUMOUR_NUC : TUMOUR_CYTO, noise);
        return;
      }
      case 2: {
        // Glands: lumen inside 55 % of the radius, a ring of cells with nuclei dotted along it.
        const n = nearest(this.glands, x, y, this.near);
        const R = this.glands.r[n.k];
        if (n.d1 >= R) return put(out, o, GLAND_STROMA, noise);
        if (n.d1 < 0.55 * R) return put(out, o, GLAND_LUMEN, noise);
        const ang = Math.atan2(y - this.glands.y[n.k], x - this.glands.x[n.k]);
        const onNucleus = Math.abs(n.d1 - 0.8 * R) < 6 * s && Math.cos(ang * 18) > 0.3;
        return put(out, o, onNucleus ? GLAND_NUC : GLAND_CELL, noise);
      }
      case 3: {
        // Fat: Voronoi cells of the jittered grid; walls where the two nearest centres are nearly tied.
        const n = nearest(this.fat, x, y, this.near);
        return put(out, o, n.d2 - n.d1 < 7 * s ? FAT_WALL : FAT_INSIDE, noise);
      }
      default: {
        const n = nearest(this.lymph, x, y, this.near);
        return put(out, o, n.d1 < this.lymph.r[n.k] ? LYMPH_DOT : LYMPH_BG, noise);
      }
    }
  }
}
