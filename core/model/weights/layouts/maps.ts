// Small KeyMap builders shared by the layouts.
import type { WeightTensor } from '../safetensors.js';
import type { KeyMap } from './types.js';

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** A rename, optionally with a reshape (same element order): canonical shape ⇄ stored shape. */
export function rename(canonical: string, stored: string, canonicalShape: number[], storedShape: number[] = canonicalShape): KeyMap {
  if (product(canonicalShape) !== product(storedShape))
    throw new Error(`rename ${canonical} → ${stored}: shapes [${canonicalShape}] and [${storedShape}] differ in size`);
  return {
    canonical: [canonical],
    stored: [{ name: stored, shape: storedShape }],
    toCanonical: ([t]) => [{ shape: [...canonicalShape], data: t.data }],
    fromCanonical: ([t]) => [{ shape: [...storedShape], data: t.data }],
  };
}

/** Concatenates tensors along dim 0 (rows): (a0, …) + (a1, …) → (a0 + a1, …). */
export function concatRows(parts: WeightTensor[]): WeightTensor {
  const rest = parts[0].shape.slice(1);
  const rows = parts.reduce((s, p) => s + p.shape[0], 0);
  const data = new Float32Array(rows * product(rest));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { shape: [rows, ...rest], data };
}

/** Splits along dim 0 into pieces of the given row counts (the inverse of concatRows). */
export function splitRows(t: WeightTensor, rows: number[]): WeightTensor[] {
  const rest = t.shape.slice(1);
  const stride = product(rest);
  const out: WeightTensor[] = [];
  let at = 0;
  for (const r of rows) {
    out.push({ shape: [r, ...rest], data: t.data.slice(at * stride, (at + r) * stride) });
    at += r;
  }
  return out;
}

/**
 * Fused attention input projection: canonical `attn.qkv.{weight,bias}` (3D, …) in chunk order [q | k | v]
 * ⇄ three stored tensors (D, …). With `noKeyBias` (DINOv3 HF, whose k_proj has no bias) the bias maps to
 * two stored tensors [q, v] and the k third is zero on import and dropped on export (the original model
 * masks it to zero anyway).
 */
export function fusedQkv(canonical: string, stored: [string, string, string], D: number, rest: number[], noKeyBias = false): KeyMap {
  const one = [D, ...rest];
  const names = noKeyBias ? [stored[0], stored[2]] : stored;
  return {
    canonical: [canonical],
    stored: names.map((name) => ({ name, shape: [...one] })),
    toCanonical: (parts) => {
      if (!noKeyBias) return [concatRows(parts)];
      const zeros = { shape: [...one], data: new Float32Array(product(one)) };
      return [concatRows([parts[0], zeros, parts[1]])];
    },
    fromCanonical: ([qkv]) => {
      const [q, k, v] = splitRows(qkv, [D, D, D]);
      return noKeyBias ? [q, v] : [q, k, v];
    },
  };
}

/** Builds maps for many renames at once: [canonical, stored, shape][]. */
export function renames(list: [string, string, number[]][]): KeyMap[] {
  return list.map(([c, s, shape]) => rename(c, s, shape));
}

/** A stored tensor with no canonical counterpart: written on export (e.g. zeros or ones), dropped on import. */
export function storedOnly(stored: string, shape: number[], fill: number, optional = true): KeyMap {
  return {
    canonical: [],
    stored: [{ name: stored, shape, optional }],
    toCanonical: () => [],
    fromCanonical: () => [{ shape: [...shape], data: new Float32Array(product(shape)).fill(fill) }],
  };
}

/** Parses `prefix{i}.rest` → [i, rest], or null. */
export function blockIndex(name: string, prefix: string): [number, string] | null {
  if (!name.startsWith(prefix)) return null;
  const m = /^(\d+)\.(.+)$/.exec(name.slice(prefix.length));
  return m ? [Number(m[1]), m[2]] : null;
}

/** Number of blocks: 1 + the largest index among keys `prefix{i}.…` (0 when none). */
export function countBlocks(names: Iterable<string>, prefix: string): number {
  let n = 0;
  for (const k of names) {
    const b = blockIndex(k, prefix);
    if (b) n = Math.max(n, b[0] + 1);
  }
  return n;
}

/** A canonical tensor the layout does not store (timm has no mask_token): filled on import, dropped on export. */
export function canonicalOnly(canonical: string, shape: number[], fill: number): KeyMap {
  return {
    canonical: [canonical],
    stored: [],
    toCanonical: () => [{ shape: [...shape], data: new Float32Array(product(shape)).fill(fill) }],
    fromCanonical: () => [],
  };
}
