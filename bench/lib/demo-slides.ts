// The TUNING counterpart of the held-out collection for bench/quality.bench.ts (DINOSCOPE_QUALITY_SET=demo):
// 512 px slides of the demo's textures (core/demo/textures.ts, a tuning set) at the demo's extraction
// resolution (the demo slide four times smaller in every length, as TINY_SPEC), in the held-out slides' shape
// (interleaved RGB and a class per pixel, −1 on the background), so settings can be chosen on the same
// measurement without looking at the held-out figures.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharp } from '../../core/io/sharp.js';
import { type DemoSpec, demoRegionAt, renderDemoImage } from '../../core/demo/generate.js';
import { TEXTURE_COUNT } from '../../core/demo/textures.js';

export const DEMO_SLIDE_SPEC: DemoSpec = { images: 4, side: 512, scale: 0.25, mpp: 2, seed: 2024 };
export const DEMO_CLASS_COUNT = TEXTURE_COUNT;

export interface LabelledSlide {
  /** Interleaved RGB (side, side, 3). */
  rgb: Uint8Array;
  /** Class per pixel (side, side); −1 on the background. */
  labels: Int8Array;
}

/** Demo slide i (any index ≥ 0: each its own layout) with its ground truth. */
export function demoSlide(i: number, spec: DemoSpec = DEMO_SLIDE_SPEC): LabelledSlide {
  const labels = new Int8Array(spec.side * spec.side);
  for (let y = 0; y < spec.side; y++) for (let x = 0; x < spec.side; x++) labels[y * spec.side + x] = demoRegionAt(i, spec, x, y);
  return { rgb: renderDemoImage(i, spec), labels };
}

/** Writes demo slides `first`…`first + count − 1` as PNGs (no pixel size, as the held-out slides); returns their paths. */
export async function writeDemoSlides(dir: string, first: number, count: number, spec: DemoSpec = DEMO_SLIDE_SPEC): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = first; i < first + count; i++) {
    const p = join(dir, `demo-${i}.png`);
    await sharp(renderDemoImage(i, spec), { raw: { width: spec.side, height: spec.side, channels: 3 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  return paths;
}
