// The predictor's RoPE on the host (capi/model.py Rope, EncoderDecoder.prepare_tokens_and_drop): 2-D
// coordinates in [0, 1] (row, column) of every patch (linspace over the grid), the prefix tokens on the
// edge of the visible patches' bounding box, and the cos / sin tables of angle = coords · freqs that the
// step graph takes as inputs (B, 1, n, head_dim).
// Our encoder's prefix is [CLS, R registers] (the official one has 16 registers and no CLS): the registers
// take the official edge coordinates (get_edge_coordinates: 4 sides, R/4 points a side) and the CLS the
// centre of the box; both are scaled to the visible box (scale_reg_to_visible).
import { type HostTensor, hostTensor } from '../../graph/tensor.js';

/** The official Rope's angular frequencies (2, hd) (rows: row coordinate, column coordinate), row-major. */
export function ropeFreqs(headDim: number, maxFreq = 7, minFreq = 7e-4): Float64Array {
  if (headDim % 4) throw new Error(`ropeFreqs: head size ${headDim} is not a multiple of 4`);
  const q = headDim / 4;
  const f1 = Array.from({ length: q }, (_, i) => maxFreq * (maxFreq / minFreq) ** (q === 1 ? 0 : -i / (q - 1)));
  const f = new Float64Array(2 * headDim);
  for (let i = 0; i < 2 * q; i++) {
    f[i] = f1[i % q] * 2 * Math.PI; // row 0, first half: the row coordinate
    f[headDim + headDim / 2 + i] = f1[i % q] * 2 * Math.PI; // row 1, second half: the column coordinate
  }
  return f;
}

/** The (row, column) coordinate of patch t of an h × w grid (torch.linspace(0, 1, n) per axis). */
export function patchCoord(t: number, h: number, w: number): [number, number] {
  const r = Math.floor(t / w);
  const c = t % w;
  return [h > 1 ? r / (h - 1) : 0, w > 1 ? c / (w - 1) : 0];
}

/** get_edge_coordinates(n): n/4 points along each side of the unit square, clockwise from (0, 0). */
export function edgeCoords(n: number): [number, number][] {
  if (n % 4) throw new Error(`edgeCoords: ${n} registers is not a multiple of 4`);
  const side = n / 4;
  const out: [number, number][] = [];
  for (let i = 0; i < side; i++) out.push([i / side, 0]);
  for (let i = 0; i < side; i++) out.push([1, i / side]);
  for (let i = 0; i < side; i++) out.push([1 - i / side, 1]);
  for (let i = 0; i < side; i++) out.push([0, 1 - i / side]);
  return out;
}

/** Unit-square coordinates of the prefix tokens: the CLS (if any) at the centre, then the registers on the edge. */
export function prefixCoords(registers: number, cls: boolean): [number, number][] {
  const regs =
    registers === 0 ? [] : registers % 4 === 0 ? edgeCoords(registers) : edgeCoords(4 * Math.ceil(registers / 4)).slice(0, registers);
  return cls ? [[0.5, 0.5], ...regs] : regs;
}

/** Coordinates (T, 2) of the context tokens of one image: the prefix scaled to the visible box, then the visible patches. */
export function contextCoords(visible: readonly number[], h: number, w: number, prefix: readonly [number, number][]): number[][] {
  const vis = visible.map((t) => patchCoord(t, h, w));
  const lo = [0, 1].map((a) => Math.min(...vis.map((c) => c[a])));
  const hi = [0, 1].map((a) => Math.max(...vis.map((c) => c[a])));
  return [...prefix.map((p) => [0, 1].map((a) => lo[a] + p[a] * (hi[a] - lo[a]))), ...vis];
}

/** cos and sin (B, 1, n, hd) of coords (B images × n points × 2) · freqs (2, hd), row-major. */
export function ropeTables(
  coords: readonly (readonly number[])[][],
  freqs: Float64Array,
  dtype: 'float32' | 'float64' = 'float32',
): { cos: HostTensor; sin: HostTensor } {
  const hd = freqs.length / 2;
  const B = coords.length;
  const n = coords[0].length;
  const cos = new Float64Array(B * n * hd);
  const sin = new Float64Array(B * n * hd);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < n; i++) {
      const [y, x] = coords[b][i];
      for (let j = 0; j < hd; j++) {
        const a = y * freqs[j] + x * freqs[hd + j];
        cos[(b * n + i) * hd + j] = Math.cos(a);
        sin[(b * n + i) * hd + j] = Math.sin(a);
      }
    }
  const as = (a: Float64Array): HostTensor =>
    dtype === 'float64' ? hostTensor('float64', [B, 1, n, hd], a) : hostTensor('float32', [B, 1, n, hd], Float32Array.from(a));
  return { cos: as(cos), sin: as(sin) };
}
