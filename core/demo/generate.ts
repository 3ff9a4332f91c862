// The demo's sample collection: `images` square slides of tissue-like textures (textures.ts) laid out as
// layout.ts says, written as JPEG-compressed tiled pyramidal TIFFs with their µm/px, so the viewer opens
// them at once without building a pyramid cache. Everything follows from the spec: same spec, same pixels.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '../common/random.js';
import { DinoscopeError } from '../common/errors.js';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';
import { replaceAtomic } from '../io/atomic.js';
import { BACKGROUND, demoLayout, regionAt, regionGrid, type DemoLayout } from './layout.js';
import { BACKGROUND_RGB, TextureField } from './textures.js';

export interface DemoSpec {
  images: number;
  /** Side of each slide in level-0 pixels. */
  side: number;
  /** Length scale of the textures (1 for the full demo; smaller shrinks nuclei, stripes and cells alike). */
  scale: number;
  /** Level-0 resolution written into the files (µm per pixel). */
  mpp: number;
  seed: number;
}

/** The full demo: four 4096 px slides at 0.5 µm/px (about 2 × 2 mm of "tissue" each). */
export const FULL_SPEC: DemoSpec = { images: 4, side: 4096, scale: 1, mpp: 0.5, seed: 2024 };
/** The smoke-test demo: the same slides four times smaller in every length (tests, --tiny). */
export const TINY_SPEC: DemoSpec = { images: 4, side: 512, scale: 0.25, mpp: 2, seed: 2024 };

export function demoImageName(i: number): string {
  return `demo-slide-${i + 1}.tif`;
}

/** Rows painted between yields of renderBands (a 4096 px slide: 64 bands of ~50–150 ms each). */
const BAND_ROWS = 64;

/** Paints demo image i into px, (side, side, 3), yielding after every BAND_ROWS rows. */
function* renderBands(i: number, spec: DemoSpec, px: Uint8Array): Generator<void> {
  const { side } = spec;
  const layout = layoutOf(i, spec);
  const grid = regionGrid(layout);
  const n = Math.ceil(side / layout.q);
  const field = new TextureField(side, spec.scale, (spec.seed * 31 + i * 977 + 1) >>> 0);
  const u = mulberry32((spec.seed ^ (i * 0x9e3779b9)) >>> 0);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const noise = Math.round((u() - 0.5) * 14);
      const o = 3 * (y * side + x);
      const t = grid[Math.floor(y / layout.q) * n + Math.floor(x / layout.q)];
      if (t === BACKGROUND) {
        px[o] = BACKGROUND_RGB[0] + (noise >> 2);
        px[o + 1] = BACKGROUND_RGB[1] + (noise >> 2);
        px[o + 2] = BACKGROUND_RGB[2] + (noise >> 2);
      } else field.paint(t, x, y, px, o, noise);
    }
    if ((y + 1) % BAND_ROWS === 0) yield;
  }
}

/** Level-0 RGB of demo image i: (side, side, 3). */
export function renderDemoImage(i: number, spec: DemoSpec): Uint8Array {
  const px = new Uint8Array(spec.side * spec.side * 3); // (h, w, 3)
  for (const _ of renderBands(i, spec, px));
  return px;
}

/** renderDemoImage in bands, giving the event loop a turn between them (hosts stay responsive) and
 * stopping with CANCELLED at the first band after `signal` aborts. */
async function renderDemoImageAsync(i: number, spec: DemoSpec, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const px = new Uint8Array(spec.side * spec.side * 3); // (h, w, 3)
  for (const _ of renderBands(i, spec, px)) {
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw cancelled();
  }
  return px;
}

const cancelled = (): DinoscopeError => new DinoscopeError('CANCELLED', 'Demo: cancelled while generating the sample slides.');

/** Texture of demo image i at level-0 (x, y), or BACKGROUND (-1, layout.ts): the ground truth of the collection. */
export function demoRegionAt(i: number, spec: DemoSpec, x: number, y: number): number {
  return regionAt(layoutOf(i, spec), x, y);
}

/** Image i's layout; regions change on 4 × 4 px squares at full scale (one layout evaluation per square). */
export function layoutOf(i: number, spec: DemoSpec): DemoLayout {
  return demoLayout(i, spec.side, spec.seed, Math.max(1, Math.round(4 * spec.scale)));
}

export interface GenerateHooks {
  signal?: AbortSignal;
  /** Called after each image is written (done of total). */
  progress?(done: number, total: number): void;
  /** Write only these image indices (default all). */
  only?: readonly number[];
}

/** Writes the collection (or hooks.only of it) into `dir`, files named by demoImageName; returns their paths. */
export async function writeDemoImages(dir: string, spec: DemoSpec, hooks: GenerateHooks = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  const todo = hooks.only ?? Array.from({ length: spec.images }, (_, i) => i);
  for (const i of todo) {
    if (hooks.signal?.aborted) throw cancelled();
    const path = join(dir, demoImageName(i));
    const data = await renderDemoImageAsync(i, spec, hooks.signal);
    await replaceAtomic(path, (tmp) =>
      writePyramidalTiff(tmp, {
        width: spec.side,
        height: spec.side,
        tile: 256,
        compression: 'jpeg',
        quality: 88,
        pattern: { data, width: spec.side, height: spec.side },
        pixelsPerMm: 1000 / spec.mpp,
      }),
    );
    paths.push(path);
    hooks.progress?.(paths.length, todo.length);
  }
  return paths;
}
