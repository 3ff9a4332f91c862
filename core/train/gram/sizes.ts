// High-resolution adaptation crop sizes (shared/reference/dino-recipes.md §4): each iteration draws one
// (global, local, gram) size triple from a table with probabilities. The reference table (DINOv3, patch 16)
// plus presets scaled for a CPU and for one GPU, and a seeded sampler whose state is checkpointable.
import { Rng, type RngState } from '../../data/train/random.js';

/** Crop sides in pixels: the student's global crops, its local crops, and the Gram teacher's crops. */
export interface SizeTriple {
  global: number;
  local: number;
  gram: number;
}

export interface SizeEntry extends SizeTriple {
  p: number;
}

export type SizePresetName = 'reference' | 'gpu' | 'cpu';

/** DINOv3's table verbatim (patch 16). */
export const REFERENCE_SIZES: readonly SizeEntry[] = [
  { global: 512, local: 112, gram: 768, p: 0.3 },
  { global: 768, local: 112, gram: 1152, p: 0.3 },
  { global: 768, local: 168, gram: 1152, p: 0.3 },
  { global: 768, local: 224, gram: 1152, p: 0.05 },
  { global: 768, local: 336, gram: 1152, p: 0.05 },
];

/** One GPU (~24–80 GB, ViT-S/B, small batches): the reference table at 2/3 scale, same probabilities. */
export const GPU_SIZES: readonly SizeEntry[] = [
  { global: 384, local: 96, gram: 576, p: 0.3 },
  { global: 512, local: 96, gram: 768, p: 0.3 },
  { global: 512, local: 112, gram: 768, p: 0.3 },
  { global: 512, local: 160, gram: 768, p: 0.05 },
  { global: 512, local: 224, gram: 768, p: 0.05 },
];

/** A CPU (a few cores, a few GB): global 224–320 px, Gram teacher at 1.5–2×, same probabilities. */
export const CPU_SIZES: readonly SizeEntry[] = [
  { global: 224, local: 64, gram: 448, p: 0.3 },
  { global: 320, local: 64, gram: 480, p: 0.3 },
  { global: 320, local: 96, gram: 480, p: 0.3 },
  { global: 320, local: 128, gram: 480, p: 0.05 },
  { global: 320, local: 160, gram: 480, p: 0.05 },
];

export const SIZE_PRESETS: Readonly<Record<SizePresetName, readonly SizeEntry[]>> = {
  reference: REFERENCE_SIZES,
  gpu: GPU_SIZES,
  cpu: CPU_SIZES,
};

/** Rounds every side to the nearest multiple of the patch size (at least one patch): e.g. patch 14 models. */
export function fitToPatch(table: readonly SizeEntry[], patch: number): SizeEntry[] {
  if (!Number.isInteger(patch) || patch < 1) throw new RangeError(`fitToPatch: patch must be a positive integer, got ${patch}`);
  const r = (x: number): number => Math.max(patch, Math.round(x / patch) * patch);
  return table.map((e) => ({ global: r(e.global), local: r(e.local), gram: r(e.gram), p: e.p }));
}

/** Throws unless the probabilities are non-negative and sum to 1 and the sides are positive integers. */
export function validateSizeTable(table: readonly SizeEntry[]): void {
  if (table.length === 0) throw new RangeError('size table: empty');
  let total = 0;
  for (const e of table) {
    for (const side of [e.global, e.local, e.gram]) {
      if (!Number.isInteger(side) || side < 1)
        throw new RangeError(`size table: sides must be positive integers, got ${JSON.stringify(e)}`);
    }
    if (!(e.p >= 0)) throw new RangeError(`size table: probability must be ≥ 0, got ${JSON.stringify(e)}`);
    total += e.p;
  }
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`size table: probabilities sum to ${total}, not 1`);
}

/** Draws one size triple per iteration from a table; seeded and resumable through `state()`. */
export class SizeSampler {
  private readonly cumulative: number[];
  private readonly rng: Rng;

  constructor(
    readonly table: readonly SizeEntry[],
    seedOrState: number | RngState,
  ) {
    validateSizeTable(table);
    let acc = 0;
    this.cumulative = table.map((e) => (acc += e.p));
    this.rng = typeof seedOrState === 'number' ? Rng.seeded(seedOrState, 0x6772616d) : Rng.fromState(seedOrState);
  }

  /** The index into `table` of the next draw. */
  nextIndex(): number {
    const u = this.rng.random() * this.cumulative[this.cumulative.length - 1];
    const i = this.cumulative.findIndex((c) => u < c);
    return i < 0 ? this.cumulative.length - 1 : i;
  }

  next(): SizeTriple {
    const { global, local, gram } = this.table[this.nextIndex()];
    return { global, local, gram };
  }

  state(): RngState {
    return this.rng.state();
  }
}
