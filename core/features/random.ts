// Seeded randomness for reproducible sampling, initialisation and synthetic fixtures.

/** Uniform [0, 1) numbers from a 32-bit seed (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers (Box–Muller) from a uniform source. */
export function gaussian(u: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** `m` distinct indices of [0, n) (all of them, in order, when m ≥ n). */
export function sampleIndices(n: number, m: number, u: () => number): Uint32Array {
  if (m >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  // Floyd's algorithm: m draws, no O(n) state.
  const chosen = new Set<number>();
  for (let j = n - m; j < n; j++) {
    const t = Math.floor(u() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Uint32Array.from([...chosen].sort((a, b) => a - b));
}
