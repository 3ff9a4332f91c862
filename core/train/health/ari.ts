// The adjusted Rand index of a clustering against ground truth: how the quality benchmarks and the demo's
// quality test say whether k-means clusters of a model's patch features follow the true tissue types.

/** Adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same items; items with a negative
 * label in `truth` are left out. 1 = identical partitions, ≈ 0 = chance. */
export function adjustedRandIndex(truth: ArrayLike<number>, found: ArrayLike<number>): number {
  const pairs = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  let n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] < 0) continue;
    n++;
    const key = `${truth[i]},${found[i]}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    rows.set(truth[i], (rows.get(truth[i]) ?? 0) + 1);
    cols.set(found[i], (cols.get(found[i]) ?? 0) + 1);
  }
  const c2 = (m: number): number => (m * (m - 1)) / 2;
  let index = 0;
  for (const v of pairs.values()) index += c2(v);
  let a = 0;
  for (const v of rows.values()) a += c2(v);
  let b = 0;
  for (const v of cols.values()) b += c2(v);
  const expected = (a * b) / c2(n);
  const max = (a + b) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
