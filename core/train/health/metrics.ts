// Dense-feature health metrics on patch features (B, N, D), row-major over an (h × w) grid:
// - locality: for each probe patch, the share of its positive cosine-similarity mass (over the other
//   patches of its image) that lies within grid radius r — and, with region labels, within its own region.
//   Sharp, spatially coherent features score high; features that lost locality score near the uniform share.
// - CLS–patch cosine: mean cos(cls_b, patch_bn), the degradation signal DINOv3 describes (patch tokens
//   collapsing onto the global token).
// Host-side float64 arithmetic over Float32Array/Float64Array views; no graph.
import { type Grid, type Probe } from './probes.js';

type Floats = Float32Array | Float64Array;

export interface LocalityOptions {
  /** Radius in patches (Euclidean on the grid), e.g. 2. */
  radius: number;
  /** Region label per patch (B·N, row-major like the features); negative = unlabelled. */
  labels?: Int32Array;
}

export interface LocalityResult {
  /** Mean over probes of (positive similarity mass within the radius) / (all positive mass). */
  locality: number;
  /** The same share for similarities spread evenly over the other patches (the no-locality baseline). */
  uniformLocality: number;
  /** Mean over labelled probes of the share within the probe's own region; null without labels. */
  region: number | null;
  /** The even-spread baseline for `region`; null without labels. */
  uniformRegion: number | null;
  probes: number;
}

function checkShape(features: Floats, b: number, grid: Grid, d: number): void {
  if (features.length !== b * grid.h * grid.w * d) {
    throw new RangeError(`health: ${features.length} values are not (${b}, ${grid.h * grid.w}, ${d})`);
  }
}

/** Unit-norm copies of the B·N rows (zero rows stay zero). */
function normalizedRows(x: Floats, rows: number, d: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[r * d + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < d; c++) out[r * d + c] = x[r * d + c] * inv;
  }
  return out;
}

/** Patch-similarity locality of `features` (B, N, D) at the given probes. */
export function patchLocality(
  features: Floats,
  b: number,
  grid: Grid,
  d: number,
  probes: readonly Probe[],
  opts: LocalityOptions,
): LocalityResult {
  checkShape(features, b, grid, d);
  const n = grid.h * grid.w;
  if (opts.labels && opts.labels.length !== b * n) throw new RangeError(`health: ${opts.labels.length} labels for ${b * n} patches`);
  const x = normalizedRows(features, b * n, d); // (B·N, D) unit rows
  const r2 = opts.radius * opts.radius;
  let loc = 0;
  let uni = 0;
  let reg = 0;
  let uniReg = 0;
  let counted = 0;
  let labelled = 0;
  for (const { image, patch } of probes) {
    if (image < 0 || image >= b || patch < 0 || patch >= n)
      throw new RangeError(`health: probe (${image}, ${patch}) is outside (${b}, ${n})`);
    const py = Math.floor(patch / grid.w);
    const px = patch % grid.w;
    const base = image * n;
    const own = opts.labels ? opts.labels[base + patch] : -1;
    let total = 0;
    let near = 0;
    let inRegion = 0;
    let nearCount = 0;
    let regionCount = 0;
    for (let j = 0; j < n; j++) {
      if (j === patch) continue;
      let s = 0;
      const pi = (base + patch) * d;
      const pj = (base + j) * d;
      for (let c = 0; c < d; c++) s += x[pi + c] * x[pj + c];
      const pos = s > 0 ? s : 0;
      const dy = Math.floor(j / grid.w) - py;
      const dx = (j % grid.w) - px;
      const isNear = dy * dy + dx * dx <= r2;
      const isRegion = own >= 0 && opts.labels !== undefined && opts.labels[base + j] === own;
      total += pos;
      if (isNear) {
        near += pos;
        nearCount++;
      }
      if (isRegion) {
        inRegion += pos;
        regionCount++;
      }
    }
    if (total <= 0) continue; // no positive similarity anywhere: the share is undefined
    counted++;
    loc += near / total;
    uni += nearCount / (n - 1);
    if (own >= 0) {
      labelled++;
      reg += inRegion / total;
      uniReg += regionCount / (n - 1);
    }
  }
  const withLabels = opts.labels !== undefined && labelled > 0;
  return {
    locality: counted ? loc / counted : 0,
    uniformLocality: counted ? uni / counted : 0,
    region: withLabels ? reg / labelled : null,
    uniformRegion: withLabels ? uniReg / labelled : null,
    probes: counted,
  };
}

/** Mean cosine between each image's CLS token (B, D) and its patch tokens (B, N, D). */
export function clsPatchCosine(cls: Floats, patches: Floats, b: number, n: number, d: number): number {
  if (cls.length !== b * d || patches.length !== b * n * d)
    throw new RangeError(`health: cls ${cls.length} / patches ${patches.length} do not fit (${b}, ${n}, ${d})`);
  const c = normalizedRows(cls, b, d); // (B, D)
  const p = normalizedRows(patches, b * n, d); // (B·N, D)
  let s = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += c[i * d + k] * p[(i * n + j) * d + k];
      s += dot;
    }
  }
  return s / (b * n);
}

export interface HealthReport extends LocalityResult {
  radius: number;
  clsPatchCosine: number | null;
}

/** Both metrics in one record (what a trainer logs and saves with a checkpoint). */
export function denseHealth(
  patches: Floats,
  b: number,
  grid: Grid,
  d: number,
  probes: readonly Probe[],
  opts: LocalityOptions & { cls?: Floats },
): HealthReport {
  const loc = patchLocality(patches, b, grid, d, probes, opts);
  const cos = opts.cls ? clsPatchCosine(opts.cls, patches, b, grid.h * grid.w, d) : null;
  return { ...loc, radius: opts.radius, clsPatchCosine: cos };
}
