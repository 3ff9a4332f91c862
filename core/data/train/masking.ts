// iBOT block masking as DINOv2 does it (dinov2/data/masking.py MaskingGenerator, dinov2/data/collate.py
// collate_data_and_cast), with DINOv3's exact-count option. For a batch of 2B global crops on a
// (gh, gw) patch grid, N = gh·gw:
//   n = ⌊2B · maskProbability⌋ images get masks; probs = linspace(ratioMin, ratioMax, n + 1);
//   image i targets ⌊N · U(probs_i, probs_{i+1})⌋ patches (exact: ⌊N · probs_{i+1}⌋);
//   the other 2B − n get empty masks; the list is shuffled.
// The static masked-token buffer has the upper bound Σ ⌊N · probs_{i+1}⌋ entries so graphs keep fixed shapes.
import { roundHalfEven } from './augment/resized-crop.js';
import type { Rng } from './random.js';

export interface MaskingOptions {
  /** Patch grid of a global crop (crop size / patch size). */
  gridH: number;
  gridW: number;
  /** Fraction of the global crops that get masks (reference 0.5). */
  maskProbability?: number;
  /** Range of masked fractions (reference (0.1, 0.5)). */
  ratio?: readonly [number, number];
  /** Smallest rectangle in patches (reference 4). */
  minPatches?: number;
  /** Largest area one rectangle may add (reference 0.5 N). */
  maxPatches?: number;
  /** Rectangle aspect ratio range, sampled log-uniformly (reference 0.3 … 1/0.3). */
  minAspect?: number;
  /** DINOv3: target exactly ⌊N · probs_{i+1}⌋ and top up with random patches when the blocks fall short. */
  exact?: boolean;
}

/** One batch's masks and the iBOT gather buffers. */
export interface MaskBatch {
  /** (2B, N) row-major, 1 = masked; row order follows the global crops (crop index outer, sample inner). */
  masks: Uint8Array;
  /** (upperBound,) flat indices into (2B·N) of the masked patches, ascending, padded with 0. */
  indices: Int32Array;
  /** (upperBound,) 1 / (masked patches in that image) per masked patch — the iBOT per-image mean; 0 on padding. */
  weights: Float32Array;
  /** How many entries of indices/weights are real (≤ upperBound). */
  count: number;
  /** Σ ⌊N · probs_{i+1}⌋: the static buffer length. */
  upperBound: number;
  images: number;
  patches: number;
}

/** torch.linspace(a, b, steps). */
function linspace(a: number, b: number, steps: number): number[] {
  if (steps === 1) return [a];
  return Array.from({ length: steps }, (_, i) => a + ((b - a) * i) / (steps - 1));
}

function resolved(o: MaskingOptions): Required<MaskingOptions> {
  const n = o.gridH * o.gridW;
  return {
    gridH: o.gridH,
    gridW: o.gridW,
    maskProbability: o.maskProbability ?? 0.5,
    ratio: o.ratio ?? [0.1, 0.5],
    minPatches: o.minPatches ?? 4,
    maxPatches: o.maxPatches ?? 0.5 * n,
    minAspect: o.minAspect ?? 0.3,
    exact: o.exact ?? false,
  };
}

/** The reference's static upper bound on masked patches for a batch of `images` global crops. */
export function maskUpperBound(images: number, o: MaskingOptions): number {
  const r = resolved(o);
  const n = Math.floor(images * r.maskProbability);
  const probs = linspace(r.ratio[0], r.ratio[1], n + 1);
  const patches = r.gridH * r.gridW;
  let ub = 0;
  for (let i = 0; i < n; i++) ub += Math.floor(patches * probs[i + 1]);
  return Math.max(1, ub); // at least one (padding) slot: a graph input of length 0 breaks the iBOT head's shapes
}

/** MaskingGenerator._mask: one rectangle attempt loop (≤ 10 tries) on `mask` (gh·gw,); returns how many patches it added. */
export function addBlock(rng: Rng, mask: Uint8Array, options: MaskingOptions, maxMask: number): number {
  const o = resolved(options);
  const { gridH: H, gridW: W } = o;
  const logAspect = [Math.log(o.minAspect), Math.log(1 / o.minAspect)];
  let delta = 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = rng.uniform(o.minPatches, maxMask);
    const aspect = Math.exp(rng.uniform(logAspect[0], logAspect[1]));
    const h = roundHalfEven(Math.sqrt(targetArea * aspect)); // Python's int(round(·))
    const w = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w < W && h < H) {
      const top = rng.int(0, H - h + 1);
      const left = rng.int(0, W - w + 1);
      let already = 0;
      for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) already += mask[y * W + x];
      // Accept only rectangles that add 1 … maxMask new patches.
      if (h * w - already > 0 && h * w - already <= maxMask) {
        for (let y = top; y < top + h; y++) {
          for (let x = left; x < left + w; x++) {
            if (mask[y * W + x] === 0) {
              mask[y * W + x] = 1;
              delta++;
            }
          }
        }
      }
      if (delta > 0) break;
    }
  }
  return delta;
}

/** MaskingGenerator.__call__: rectangles until `target` patches are masked or no rectangle fits; (gh·gw,) mask. */
export function blockMask(rng: Rng, target: number, options: MaskingOptions): Uint8Array {
  const o = resolved(options);
  const mask = new Uint8Array(o.gridH * o.gridW);
  let count = 0;
  while (count < target) {
    const delta = addBlock(rng, mask, o, Math.min(target - count, o.maxPatches));
    if (delta === 0) break;
    count += delta;
  }
  if (o.exact && count < target) {
    // DINOv3 top-up: random unmasked patches until the count is exact.
    const free: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) free.push(i);
    rng.shuffle(free);
    for (let k = 0; k < target - count; k++) mask[free[k]] = 1;
  }
  return mask;
}

/** collate_data_and_cast's masking part for `images` (= 2B) global crops. */
export function maskBatch(rng: Rng, images: number, options: MaskingOptions): MaskBatch {
  const o = resolved(options);
  const N = o.gridH * o.gridW;
  const nMasked = Math.floor(images * o.maskProbability);
  const probs = linspace(o.ratio[0], o.ratio[1], nMasked + 1);
  const list: Uint8Array[] = [];
  for (let i = 0; i < nMasked; i++) {
    const target = o.exact ? Math.floor(N * probs[i + 1]) : Math.floor(N * rng.uniform(probs[i], probs[i + 1]));
    list.push(blockMask(rng, target, o));
  }
  for (let i = nMasked; i < images; i++) list.push(new Uint8Array(N));
  rng.shuffle(list);

  const masks = new Uint8Array(images * N); // (2B, N)
  list.forEach((m, i) => masks.set(m, i * N));
  const upperBound = maskUpperBound(images, o);
  const indices = new Int32Array(upperBound);
  const weights = new Float32Array(upperBound);
  let count = 0;
  for (let i = 0; i < images; i++) {
    let inImage = 0;
    for (let j = 0; j < N; j++) inImage += masks[i * N + j];
    for (let j = 0; j < N; j++) {
      if (masks[i * N + j] === 0) continue;
      if (count >= upperBound) throw new Error(`maskBatch: ${count + 1} masked patches exceed the bound ${upperBound}`);
      indices[count] = i * N + j;
      weights[count] = 1 / inImage;
      count++;
    }
  }
  return { masks, indices, weights, count, upperBound, images, patches: N };
}
