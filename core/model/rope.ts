// DINOv3's axial rotary position embedding (dinov3/layers/rope_position_encoding.py, "separate"
// coordinates, base periods), applied inside attention to the patch tokens' queries and keys only.
//
// For head size d and F = d/4 frequencies: period_j = base^(4j/d). A patch at row r, column c of an H × W
// grid has coordinates y = 2(r + 0.5)/H − 1, x = 2(c + 0.5)/W − 1. Angles θ = 2π·[y/period | x/period]
// (d/2 values) tiled twice to d; q' = q ⊙ cos θ + rot(q) ⊙ sin θ with rot([a, b]) = [−b, a] over halves.
//
// Training-only augmentation (student only; the original re-draws it for every block): with one draw
// a = (shift_y, shift_x, ln jitter_y, ln jitter_x, ln rescale), coordinates become
// ((y, x) + shift) · exp(ln jitter) · exp(ln rescale). The draws are a graph input 'rope_aug' (depth, 5),
// sampled on the host by `sampleRopeAug` from a seed, so a step is deterministic given its inputs.
//
// Our tables cover all T = 1 + R + N tokens in the (T, 1, d) layout that broadcasts over (B, T, heads, d):
// the CLS and register rows hold cos = 1, sin = 0, so one multiply-add rotates patches and leaves the
// prefix exactly as it was (no slicing of q and k). `sin` is stored pre-signed ([−s | s]) so that
// rot(q) ⊙ sin = swap(q) ⊙ sinSigned with swap([a, b]) = [b, a].
import { type Graph, graphOf } from '../graph/graph.js';
import { add, cast, div, exp, mul, sub } from '../graph/ops/elementwise.js';
import { range } from '../graph/ops/resize.js';
import { concat, expand, reshape, split } from '../graph/ops/shape.js';
import { type Dim, dimAdd, dimMul } from '../graph/sym.js';
import { dimScalar } from '../graph/sym-shape.js';
import { type HostTensor, type Tensor, hostTensor } from '../graph/tensor.js';
import { type ViTConfig, headDim } from './config.js';
import { type Rng } from './params.js';

/** period_j = base^(4j/d), j = 0 … d/4 − 1 (the `rope_embed.periods` buffer). */
export function ropePeriods(c: ViTConfig): Float64Array {
  if (!c.rope) throw new Error('ropePeriods: the config has no rope');
  const d = headDim(c);
  return Float64Array.from({ length: d / 4 }, (_, j) => c.rope!.base ** ((2 * j) / (d / 2)));
}

/** One augmentation draw: shift (y, x), ln jitter (y, x), ln rescale. */
export type RopeAug = readonly [number, number, number, number, number];

/** Coordinates (N, 2) = (y, x) per patch, row-major, with an optional augmentation draw applied. */
export function ropeCoords(h: number, w: number, aug?: RopeAug): Float64Array {
  const out = new Float64Array(h * w * 2);
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      let y = (2 * (r + 0.5)) / h - 1;
      let x = (2 * (col + 0.5)) / w - 1;
      if (aug) {
        y = (y + aug[0]) * Math.exp(aug[2]) * Math.exp(aug[4]);
        x = (x + aug[1]) * Math.exp(aug[3]) * Math.exp(aug[4]);
      }
      out[(r * w + col) * 2] = y;
      out[(r * w + col) * 2 + 1] = x;
    }
  }
  return out;
}

/** The reference's sin and cos tables (N, d) in float64 (for tests and inspection). */
export function ropeTables(c: ViTConfig, h: number, w: number, aug?: RopeAug): { sin: Float64Array; cos: Float64Array } {
  const periods = ropePeriods(c);
  const F = periods.length;
  const d = 4 * F;
  const coords = ropeCoords(h, w, aug);
  const N = h * w;
  const sin = new Float64Array(N * d);
  const cos = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let axis = 0; axis < 2; axis++) {
      for (let j = 0; j < F; j++) {
        const theta = (2 * Math.PI * coords[n * 2 + axis]) / periods[j];
        for (const k of [axis * F + j, 2 * F + axis * F + j]) {
          sin[n * d + k] = Math.sin(theta);
          cos[n * d + k] = Math.cos(theta);
        }
      }
    }
  }
  return { sin, cos };
}

/** Graph tables for rotating (B, T, heads, d): cos and pre-signed sin, each (T, 1, d). */
export interface RopeGraphTables {
  cos: Tensor;
  sinSigned: Tensor;
}

/** Inference tables as constants for T = prefix + h·w tokens (prefix rows: identity). */
export function ropeConstants(g: Graph, c: ViTConfig, h: number, w: number, prefix: number, dtype: 'float32' | 'float64'): RopeGraphTables {
  const { sin, cos } = ropeTables(c, h, w);
  const d = headDim(c);
  const T = prefix + h * w;
  const cosT = dtype === 'float64' ? new Float64Array(T * d) : new Float32Array(T * d);
  const sinT = dtype === 'float64' ? new Float64Array(T * d) : new Float32Array(T * d);
  cosT.fill(1, 0, prefix * d);
  for (let n = 0; n < h * w; n++) {
    for (let k = 0; k < d; k++) {
      const o = (prefix + n) * d + k;
      cosT[o] = cos[n * d + k];
      sinT[o] = k < d / 2 ? -sin[n * d + k] : sin[n * d + k];
    }
  }
  return {
    cos: g.constant(hostTensor(dtype, [T, 1, d], cosT), `rope_cos_${h}x${w}`),
    sinSigned: g.constant(hostTensor(dtype, [T, 1, d], sinT), `rope_sin_${h}x${w}`),
  };
}

/**
 * Training tables computed in the graph from one augmentation draw `aug` (5) (a row of 'rope_aug').
 * Same layout as `ropeConstants`; no gradient flows into `aug` (Sin and Cos have no rule, nor need one).
 */
export function ropeAugmented(g: Graph, c: ViTConfig, h: number, w: number, prefix: number, aug: Tensor): RopeGraphTables {
  const dtype = aug.dtype === 'float64' ? 'float64' : 'float32';
  const arr = (v: Float64Array): Float32Array | Float64Array => (dtype === 'float64' ? v : Float32Array.from(v));
  const N = h * w;
  return g.scope('rope', () => {
    const base = g.constant(hostTensor(dtype, [N, 2], arr(ropeCoords(h, w))), `coords_${h}x${w}`); // (N, 2)
    const [shift, logJitter, logRescale] = split(aug, [2, 2, 1], 0); // (2), (2), (1)
    const coords = mul(add(base, shift), exp(add(logJitter, logRescale))); // (N, 2)
    return tablesFromCoords(g, c, coords, prefix);
  });
}

/** Graph tables (T, 1, d) from patch coordinates (N, 2) = (y, x): θ = 2π·coord/period, prefix rows identity. */
function tablesFromCoords(g: Graph, c: ViTConfig, coords: Tensor, prefix: number): RopeGraphTables {
  const dtype = coords.dtype === 'float64' ? 'float64' : 'float32';
  const arr = (v: Float64Array): Float32Array | Float64Array => (dtype === 'float64' ? v : Float32Array.from(v));
  const periods = ropePeriods(c);
  const F = periods.length;
  const N = coords.dims[0];
  const freq = g.constant(hostTensor(dtype, [1, 1, F], arr(periods.map((p) => (2 * Math.PI) / p))), 'freq'); // (1, 1, F)
  const theta = reshape(mul(reshape(coords, [N, 2, 1]), freq), [N, 2 * F]); // (N, 2, F) → (N, d/2)
  const s = g.op('Sin', [theta], {}, theta.dims, theta.dtype); // (N, d/2)
  const co = g.op('Cos', [theta], {}, theta.dims, theta.dtype); // (N, d/2)
  const withPrefix = (t: Tensor, fill: number): Tensor => {
    if (prefix === 0) return t;
    const p = g.constant(hostTensor(dtype, [prefix, 4 * F], arr(new Float64Array(prefix * 4 * F).fill(fill))), `prefix_${fill}`);
    return concat([p, t], 0); // (T, d)
  };
  const cos = withPrefix(concat([co, co], 1), 1); // (T, d)
  const sinSigned = withPrefix(concat([mul(s, -1), s], 1), 0); // (T, d)
  const T = dimAdd(prefix, N);
  return { cos: reshape(cos, [T, 1, 4 * F]), sinSigned: reshape(sinSigned, [T, 1, 4 * F]) }; // (T, 1, d)
}

/**
 * Inference tables computed in the graph for a grid h × w known only at run time (symbolic dims): the
 * reference's coordinates 2(r + 0.5)/h − 1 from Range, no augmentation. Same layout as `ropeConstants`.
 */
export function ropeDynamic(g: Graph, c: ViTConfig, like: Tensor, h: Dim, w: Dim, prefix: number): RopeGraphTables {
  const dtype = like.dtype === 'float64' ? 'float64' : 'float32';
  return g.scope('rope', () => {
    const axis = (n: Dim): Tensor => {
      const i = cast(range(like, n), dtype); // (n): 0 … n − 1
      return sub(div(mul(add(i, 0.5), 2), cast(dimScalar(like, n), dtype)), 1); // (n): 2(i + 0.5)/n − 1
    };
    const ys = expand(reshape(axis(h), [h, 1]), [h, w]); // (h, 1) → (h, w)
    const xs = expand(reshape(axis(w), [1, w]), [h, w]); // (1, w) → (h, w)
    const N = dimMul(h, w);
    const coords = concat([reshape(ys, [N, 1]), reshape(xs, [N, 1])], 1); // (N, 2) = (y, x), row-major
    return tablesFromCoords(g, c, coords, prefix);
  });
}

/** x (B, T, heads, d) rotated: x ⊙ cos + swap(x) ⊙ sinSigned. */
export function applyRope(x: Tensor, t: RopeGraphTables): Tensor {
  const [a, b] = split(x, 2, -1); // (B, T, heads, d/2) each
  const swapped = concat([b, a], -1); // (B, T, heads, d)
  const g = graphOf(x);
  return g.scope('rope', () => add(mul(x, t.cos), mul(swapped, t.sinSigned))); // (B, T, heads, d)
}

/**
 * One augmentation draw per block, (depth, 5) float32, from `rng`: shift U(−s, s) per axis, ln jitter
 * U(−ln J, ln J) per axis, ln rescale U(−ln R, ln R) shared; a disabled component is 0 (the identity).
 */
export function sampleRopeAug(c: ViTConfig, rng: Rng): HostTensor<'float32'> {
  if (!c.rope) throw new Error('sampleRopeAug: the config has no rope');
  const a = c.rope.augment;
  const u = (half: number | null): number => (half === null || half === 0 ? 0 : (2 * rng.uniform() - 1) * half);
  const out = new Float32Array(c.depth * 5);
  for (let i = 0; i < c.depth; i++) {
    const sy = u(a.shift);
    const sx = u(a.shift);
    const jy = u(a.jitter === null ? null : Math.log(a.jitter));
    const jx = u(a.jitter === null ? null : Math.log(a.jitter));
    const r = u(a.rescale === null ? null : Math.log(a.rescale));
    out.set([sy, sx, jy, jx, r], i * 5);
  }
  return hostTensor('float32', [c.depth, 5], out);
}
