// Sampling without replacement for the feature indexes and maps (the seeded generator is core/common/random.ts).

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
