// Synthetic patch features with known structure, for tests and benchmarks: `clusters` random unit
// directions, each vector its cluster's direction plus isotropic Gaussian noise of std `noise` per
// dimension (then normalised). labels[i] is vector i's cluster.
import { gaussian, mulberry32 as rng } from '../common/random.js';

export interface Synthetic {
  vectors: Float32Array;
  labels: Int32Array;
  centers: Float32Array;
}

export function clusteredVectors(n: number, d: number, clusters: number, noise: number, seed = 7): Synthetic {
  const g = gaussian(rng(seed));
  const u = rng(seed + 1);
  const centers = new Float32Array(clusters * d);
  for (let c = 0; c < clusters; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (centers[c * d + j] = g()) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) centers[c * d + j] *= inv;
  }
  const vectors = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(u() * clusters);
    labels[i] = c;
    let s = 0;
    for (let j = 0; j < d; j++) s += (vectors[i * d + j] = centers[c * d + j] + noise * g()) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) vectors[i * d + j] *= inv;
  }
  return { vectors, labels, centers };
}
