// A second HELD-OUT collection for the quality benchmark (bench/quality.bench.ts, DINOSCOPE_QUALITY_SET=photos),
// made of real photographs rather than generated pixels: three photographed textures and one real IHC slide
// field (photos/README.md: sources and licences). Like held-out.ts, nothing is tuned on it; only the benchmark
// and photo-collection.test.ts may read it.
//
// Each slide is a mosaic of seeded Voronoi regions (about `regionSize` px), each region cut from one of the four
// photographs (its class) at a random offset, rotated by a random multiple of 90°, inside a white frame (label
// −1). Training slides (index < EVAL_FIRST) cut from the left half of every photograph and evaluation slides
// from the right half, so no pixel the evaluation scores was ever trained on.
//   0 brick    a brick wall (greyscale)
//   1 grass    grass with leaves (greyscale)
//   2 gravel   gravel (greyscale)
//   3 ihc      colonic glands, DAB immunohistochemistry with haematoxylin counterstain (colour)
// Unlike the generated collection, colour separates only one class here: three of the four are greyscale,
// so patch colour statistics cannot carry the classes.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharp } from '../../io/sharp.js';
import { mulberry32, shuffledOrder } from '../../common/random.js';
import type { HeldOutSlide } from './held-out.js';

export const PHOTO_CLASSES = ['brick', 'grass', 'gravel', 'ihc'] as const;
export const PHOTO_CLASS_COUNT = PHOTO_CLASSES.length;
/** Slides from this index on cut from the photographs' right halves (the evaluation side). */
export const EVAL_FIRST = 100;

export interface PhotoSpec {
  /** Slide side in pixels. */
  side: number;
  /** White frame width in pixels. */
  frame: number;
  /** Typical region size in pixels (the Voronoi seeds' grid step). */
  regionSize: number;
  /** Seeds the layouts; slide i uses (seed, i). */
  seed: number;
}

/** The four photographs as interleaved RGB (greyscale ones replicated), all the same side. */
export interface Photos {
  side: number;
  rgb: Uint8Array[];
}

/** Reads the photographs shipped beside this file. */
export async function loadPhotos(): Promise<Photos> {
  const rgb: Uint8Array[] = [];
  let side = 0;
  for (const name of PHOTO_CLASSES) {
    const { data, info } = await sharp(join(import.meta.dirname, 'photos', `${name}.png`))
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== info.height || (side && info.width !== side) || info.channels !== 3)
      throw new Error(`photo-collection: ${name}.png is ${info.width}×${info.height}×${info.channels}, expected square RGB of one side`);
    side = info.width;
    rgb.push(new Uint8Array(data.buffer, data.byteOffset, data.length));
  }
  return { side, rgb };
}

/** v mirrored into [0, n) (a photograph tiled by reflection, so a long region never meets a hard seam). */
function reflect(v: number, n: number): number {
  const m = ((v % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

/** Where a slide pixel comes from: its class (the photograph) and the pixel of that photograph. */
export interface PhotoSource {
  cls: number;
  px: number;
  py: number;
}

/** Slide i's layout: the source of each pixel (x, y), or null on the frame. `photoSide`: the photographs' side. */
export function photoLayout(photoSide: number, spec: PhotoSpec, i: number): (x: number, y: number) => PhotoSource | null {
  const { side, frame } = spec;
  const u = mulberry32(spec.seed * 6271 + i * 92821 + 5);
  const n = Math.max(1, Math.round(side / spec.regionSize));
  const m = n * n;
  const sx = new Float64Array(m);
  const sy = new Float64Array(m);
  const cls = new Int8Array(m);
  const ox = new Int32Array(m);
  const oy = new Int32Array(m);
  const rot = new Int8Array(m);
  const order = shuffledOrder(m, u);
  order.forEach((k, r) => (cls[k] = r % PHOTO_CLASS_COUNT)); // every class on every slide
  const half = photoSide >> 1;
  for (let k = 0; k < m; k++) {
    sx[k] = ((k % n) + 0.2 + 0.6 * u()) * (side / n);
    sy[k] = (Math.floor(k / n) + 0.2 + 0.6 * u()) * (side / n);
    // Where the region's seed falls in the photograph: near the middle of the half, so a region (about
    // regionSize across around its seed) mostly fits without reaching the reflected edge.
    ox[k] = Math.floor(half / 2 + (u() - 0.5) * Math.max(0, half - 2 * spec.regionSize));
    oy[k] = Math.floor(photoSide / 2 + (u() - 0.5) * Math.max(0, photoSide - 2 * spec.regionSize));
    rot[k] = Math.floor(u() * 4);
  }
  const x0 = i >= EVAL_FIRST ? half : 0; // which half of every photograph this slide cuts from
  return (x, y) => {
    if (x < frame || y < frame || x >= side - frame || y >= side - frame) return null;
    let best = Infinity;
    let r = 0;
    for (let k = 0; k < m; k++) {
      const d = (x - sx[k]) ** 2 + (y - sy[k]) ** 2;
      if (d < best) {
        best = d;
        r = k;
      }
    }
    // The pixel relative to its region's seed, rotated by rot·90°, placed around the seed's point in the photograph.
    const dx = Math.round(x - sx[r]);
    const dy = Math.round(y - sy[r]);
    const [a, b] = rot[r] === 0 ? [dx, dy] : rot[r] === 1 ? [dy, -dx] : rot[r] === 2 ? [-dx, -dy] : [-dy, dx];
    return { cls: cls[r], px: x0 + reflect(a + ox[r], half), py: reflect(b + oy[r], photoSide) };
  };
}

/** Slide i: pixels and the class of every pixel. */
export function photoSlide(photos: Photos, spec: PhotoSpec, i: number): HeldOutSlide {
  const { side } = spec;
  const source = photoLayout(photos.side, spec, i);
  const rgb = new Uint8Array(side * side * 3).fill(255);
  const labels = new Int8Array(side * side).fill(-1);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const s = source(x, y);
      if (!s) continue;
      const o = y * side + x;
      const src = photos.rgb[s.cls];
      const q = 3 * (s.py * photos.side + s.px);
      rgb[3 * o] = src[q];
      rgb[3 * o + 1] = src[q + 1];
      rgb[3 * o + 2] = src[q + 2];
      labels[o] = s.cls;
    }
  return { rgb, labels };
}

/** Writes slides `first`…`first + count − 1` as PNGs (dir/photo-i.png); returns their paths. */
export async function writePhotoSlides(photos: Photos, dir: string, spec: PhotoSpec, first: number, count: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = first; i < first + count; i++) {
    const p = join(dir, `photo-${i}.png`);
    await sharp(photoSlide(photos, spec, i).rgb, { raw: { width: spec.side, height: spec.side, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  return paths;
}
