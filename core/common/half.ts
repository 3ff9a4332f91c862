// IEEE 754 half (float16) and bfloat16 ⇄ float32 conversions (pure), for safetensors I/O and feature storage.
// Both directions round to nearest, ties to even, as PyTorch's `.half()` / `.bfloat16()` do. Whole-array
// float16 decoding goes through a 65 536-entry table (256 KiB, built on first use).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits → float32 value (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac · 2^-14 · 2^-10
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 value → float16 bits, round to nearest even; overflow goes to ±Infinity. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN (quiet)
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right by (14 - e) - ... bits.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000; // 24-bit significand
    const shift = 14 - e; // 14..24
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

/** bfloat16 bits → float32 value: the high half of a float32. */
export function bf16ToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** float32 value → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function floatToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

let table: Float32Array | null = null;

function decodeTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  return table;
}

/** float32 → float16 bits, element-wise. */
export function toFloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = floatToHalf(src[i]);
  return dst;
}

/** float16 bits → float32, element-wise. */
export function fromFloat16(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = decodeTable();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
  return dst;
}
