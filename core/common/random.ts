// Seeded randomness shared by every layer (pure: no Node, no DOM): reproducible initialisations, sampling,
// synthetic fixtures and benchmark request streams all draw from this one generator.

/** Returns a generator of uniform numbers in [0, 1), reproducible from `seed` (mulberry32: 32-bit state). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers (Box–Muller: two uniforms per pair, cosine first, sine kept) from a uniform source. */
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

/** A uniformly random permutation of 0 … n − 1 (Fisher–Yates, from the last position down) drawn from `u`. */
export function shuffledOrder(n: number, u: () => number): number[] {
  const order = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(u() * (k + 1));
    [order[k], order[j]] = [order[j], order[k]];
  }
  return order;
}
