// HELD-OUT collection for the quality benchmark (bench/quality.bench.ts). No preset, recipe value or test
// threshold was ever tuned on it: the TUNING set is textures.ts here (structure-only quadrant mosaics, the
// pretraining-quality and dino-cls tests) and core/demo/textures.ts (the demo slides, the Quick preset's
// short-run deviations). Keep the two apart: nothing outside bench/quality.bench.ts and held-out.test.ts
// may use this file, or its figures stop measuring generalisation (the second held-out collection,
// photo-collection.ts, shares its slide type and patch labels).
//
// Its statistics differ from both tuning sets on purpose:
// - Stain per slide: pixels are stain densities (haematoxylin H, eosin E) turned into RGB by Beer–Lambert,
//   RGB = 255·exp(−(H·h + E·e)), with each slide's own stain vectors h, e and intensity (a batch-to-batch
//   variation of ±25 %); the tuning sets use one fixed colour pair for every image.
// - Regions are seeded Voronoi cells (about `regionSize` px) with one of five classes each; every class
//   appears on every slide.
// - Classes (none is a tuning texture: different scales, orientations and layouts):
//     0 fibres     thin eosin fibres, straight-ish, one random orientation per region (any angle)
//     1 nuclei     sparse large ellipses (radius 5–8 px, elongated, any angle) with chromatin speckle
//     2 clusters   small dark round cells (radius 2–3 px) packed in clumps on a pale background
//     3 cribriform a solid purple-pink sheet punched with round lumina (radius 4–7 px)
//     4 debris     pale pink with small irregular dark fragments (necrosis-like)
// - A white frame around the tissue (label −1), so the training sampler's Otsu tissue mask keeps every region.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharp } from '../../io/sharp.js';
import { gaussian, mulberry32, shuffledOrder } from '../../common/random.js';

export const HELD_OUT_CLASSES = ['fibres', 'nuclei', 'clusters', 'cribriform', 'debris'] as const;
export const HELD_OUT_CLASS_COUNT = HELD_OUT_CLASSES.length;

export interface HeldOutSpec {
  /** Slide side in pixels. */
  side: number;
  /** White frame width in pixels. */
  frame: number;
  /** Typical region size in pixels (the Voronoi seeds' grid step). */
  regionSize: number;
  /** Seeds everything; slide i uses (seed, i). */
  seed: number;
}

export interface HeldOutSlide {
  /** Interleaved RGB (side, side, 3). */
  rgb: Uint8Array;
  /** Class per pixel (side, side); −1 on the frame. */
  labels: Int8Array;
}

/** Voronoi seeds on a jittered grid, each with a class; every class used at least once (shuffled cycle). */
function regions(spec: HeldOutSpec, u: () => number): { x: Float64Array; y: Float64Array; cls: Int8Array; angle: Float64Array } {
  const n = Math.max(1, Math.round(spec.side / spec.regionSize));
  const m = n * n;
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  const angle = new Float64Array(m);
  const cls = new Int8Array(m);
  const order = shuffledOrder(m, u);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const k = j * n + i;
      x[k] = (i + 0.2 + 0.6 * u()) * (spec.side / n);
      y[k] = (j + 0.2 + 0.6 * u()) * (spec.side / n);
      angle[k] = Math.PI * u();
    }
  order.forEach((k, r) => (cls[k] = r % HELD_OUT_CLASS_COUNT));
  return { x, y, cls, angle };
}

/** One blob per cell of a jittered grid (cell side c): centre, radii and orientation; nearest-blob lookups. */
function blobs(side: number, c: number, rMin: number, rMax: number, aspect: number, u: () => number, keep = 1) {
  const n = Math.ceil(side / c) + 1;
  const cx = new Float64Array(n * n);
  const cy = new Float64Array(n * n);
  const ra = new Float64Array(n * n);
  const rb = new Float64Array(n * n);
  const cos = new Float64Array(n * n);
  const sin = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    const i = k % n;
    const j = Math.floor(k / n);
    cx[k] = (i + 0.1 + 0.8 * u()) * c;
    cy[k] = (j + 0.1 + 0.8 * u()) * c;
    const r = rMin + (rMax - rMin) * u();
    const a = 1 + (aspect - 1) * u();
    const present = u() < keep;
    ra[k] = present ? r * Math.sqrt(a) : 0;
    rb[k] = present ? r / Math.sqrt(a) : 0;
    const t = Math.PI * u();
    cos[k] = Math.cos(t);
    sin[k] = Math.sin(t);
  }
  /** The elliptical distance (< 1 inside) to the nearest blob, and that blob's index. */
  return (x: number, y: number): [number, number] => {
    const ci = Math.floor(x / c);
    const cj = Math.floor(y / c);
    let best = Infinity;
    let bk = -1;
    for (let j = Math.max(0, cj - 1); j <= Math.min(n - 1, cj + 1); j++)
      for (let i = Math.max(0, ci - 1); i <= Math.min(n - 1, ci + 1); i++) {
        const k = j * n + i;
        if (ra[k] === 0) continue;
        const dx = x - cx[k];
        const dy = y - cy[k];
        const p = (dx * cos[k] + dy * sin[k]) / ra[k];
        const q = (-dx * sin[k] + dy * cos[k]) / rb[k];
        const d = Math.sqrt(p * p + q * q);
        if (d < best) {
          best = d;
          bk = k;
        }
      }
    return [best, bk];
  };
}

/** A smooth random field in about [−1, 1] (a few random cosines of about `wavelength` px). */
function smooth(u: () => number, wavelength: number): (x: number, y: number) => number {
  const w = Array.from({ length: 5 }, () => {
    const a = 2 * Math.PI * u();
    const k = (2 * Math.PI) / (wavelength * (0.7 + 0.6 * u()));
    return { kx: k * Math.cos(a), ky: k * Math.sin(a), ph: 2 * Math.PI * u() };
  });
  const norm = Math.sqrt(2 / w.length);
  return (x, y) => norm * w.reduce((s, v) => s + Math.cos(v.kx * x + v.ky * y + v.ph), 0);
}

/** A well-mixed hash of (x, y, salt) in [0, 1). */
function hash01(x: number, y: number, salt: number): number {
  let h = Math.imul(x + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(y + salt, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Slide i of the collection: pixels and the class of every pixel. */
export function heldOutSlide(spec: HeldOutSpec, i: number): HeldOutSlide {
  const { side, frame } = spec;
  const u = mulberry32(spec.seed * 7919 + i * 104729 + 17);
  const g = gaussian(u);
  const reg = regions(spec, u);
  // This slide's stain: optical-density vectors (R, G, B) of H and E, each jittered, and an intensity.
  const jitter = (v: readonly number[]): number[] => v.map((c) => c * (1 + 0.25 * (2 * u() - 1)));
  const h = jitter([0.65, 0.7, 0.29].map((c) => c * 1.6));
  const e = jitter([0.07, 0.99, 0.11].map((c) => c * 1.2));
  const intensity = 0.8 + 0.4 * u();
  const nuclei = blobs(side, 26, 5, 8, 2.2, u, 0.8);
  const cells = blobs(side, 8, 2, 3, 1.2, u);
  const clumps = smooth(u, 40);
  const lumina = blobs(side, 18, 4, 7, 1.3, u, 0.85);
  const wobble = smooth(u, 60);
  const salt = Math.floor(u() * 0x7fffffff);
  const rgb = new Uint8Array(side * side * 3);
  const labels = new Int8Array(side * side).fill(-1);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const o = y * side + x;
      let H = 0;
      let E = 0;
      if (x >= frame && y >= frame && x < side - frame && y < side - frame) {
        let best = Infinity;
        let r = 0;
        for (let k = 0; k < reg.x.length; k++) {
          const d = (x - reg.x[k]) ** 2 + (y - reg.y[k]) ** 2;
          if (d < best) {
            best = d;
            r = k;
          }
        }
        const cls = reg.cls[r];
        labels[o] = cls;
        if (cls === 0) {
          // Fibres: lines across the region's direction, 7 px apart, ~2 px wide, gently wavy.
          const t = -x * Math.sin(reg.angle[r]) + y * Math.cos(reg.angle[r]) + 3 * wobble(x, y);
          const f = Math.abs(Math.sin((Math.PI * t) / 7));
          E = 0.25 + (f < 0.35 ? 0.9 : 0);
          H = 0.05;
        } else if (cls === 1) {
          const [d, k] = nuclei(x, y);
          E = 0.45;
          H = d < 1 ? 0.75 + 0.5 * hash01(x >> 1, y >> 1, salt + k) : d < 1.25 ? 0.25 : 0.03;
        } else if (cls === 2) {
          const [d] = cells(x, y);
          const dense = clumps(x, y) > -0.1;
          E = 0.12;
          H = dense && d < 1 ? 1.1 : 0.05;
        } else if (cls === 3) {
          const [d] = lumina(x, y);
          H = d < 1 ? 0 : 0.45;
          E = d < 1 ? 0.02 : 0.55;
        } else {
          // Debris: fragments where a fine 3-px hash noise is high and a medium field agrees.
          const frag = hash01(Math.floor(x / 3), Math.floor(y / 3), salt) > 0.82 && hash01(x >> 1, y >> 1, salt ^ 0x5bd1) > 0.3;
          E = 0.38;
          H = frag ? 0.9 : 0.04;
        }
      }
      for (let c = 0; c < 3; c++) {
        const od = intensity * (H * h[c] + E * e[c]);
        const v = 255 * Math.exp(-od) + 6 * g();
        rgb[3 * o + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { rgb, labels };
}

/**
 * The class of a `cell`-px patch at grid (gx, gy): the class of all of its pixels when at least `purity` of
 * them share it, else −1 (a patch on a region border or the frame, left out of queries, hits and ARI).
 */
export function patchLabel(slide: HeldOutSlide, side: number, cell: number, gx: number, gy: number, purity = 0.75): number {
  const counts = new Int32Array(HELD_OUT_CLASS_COUNT);
  let frame = 0;
  for (let y = gy * cell; y < (gy + 1) * cell; y++)
    for (let x = gx * cell; x < (gx + 1) * cell; x++) {
      const l = slide.labels[y * side + x];
      if (l < 0) frame++;
      else counts[l]++;
    }
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > counts[best]) best = k;
  return frame === 0 && counts[best] >= purity * cell * cell ? best : -1;
}

/** Writes slides `first`…`first + count − 1` as PNGs (dir/held-out-i.png); returns their paths. */
export async function writeHeldOutSlides(dir: string, spec: HeldOutSpec, first: number, count: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = first; i < first + count; i++) {
    const p = join(dir, `held-out-${i}.png`);
    await sharp(heldOutSlide(spec, i).rgb, { raw: { width: spec.side, height: spec.side, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  return paths;
}
