// k-means clusters of a collection: spherical k-means (cosine) with k-means++ starts and mini-batch
// updates on a sample of indexed patches from every image; every patch of an image is then assigned to
// its nearest centroid, so a cluster has the same label (and colour) everywhere.
import { MAX_CLUSTER_K, MIN_CLUSTER_K } from '../common/clusters.js';
import { DinoscopeError } from '../common/errors.js';
import { assign, type KMeansModel, type KMeansOptions } from '../features/kmeans.js';
import { regions, type Region } from '../features/regions.js';
import type { FeatureCollection } from './collection.js';
import { kmeansInThread } from './fit-thread.js';
import { sampleRows } from './pca-maps.js';

export const KMEANS_SAMPLE = 20000;

export function checkK(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < MIN_CLUSTER_K || k > MAX_CLUSTER_K)
    throw new DinoscopeError('BAD_INPUT', `k must be an integer from ${MIN_CLUSTER_K} to ${MAX_CLUSTER_K}, got ${String(k)}.`);
  return k;
}

/** The k-means model of the collection for k; the fit runs in the fit thread (fit-thread.ts), so the
 * calling thread answers other calls meanwhile. */
export async function fitClusters(fc: FeatureCollection, k: number, smoothing = 0): Promise<KMeansModel> {
  const { data, d, options } = await clusterSample(fc, k, smoothing);
  return kmeansInThread(data, d, options);
}

/** The sample k-means is fitted on, (n, d), and its options. */
async function clusterSample(
  fc: FeatureCollection,
  k: number,
  smoothing: number,
): Promise<{ data: Float32Array; d: number; options: KMeansOptions }> {
  const d = fc.index.dim;
  const data = await sampleRows(fc, KMEANS_SAMPLE, 2, smoothing);
  const n = data.length / d;
  if (n < k) throw new DinoscopeError('BAD_INPUT', `k = ${k} needs at least ${k} indexed patches, the collection has ${n}.`);
  return {
    data,
    d,
    options: { k, seed: 3, spherical: true, restarts: 2, ...(n > 4096 ? { batchSize: 1024, iterations: 150 } : { iterations: 30 }) },
  };
}

/** (gridHeight, gridWidth) labels of one image, −1 where it has no indexed patch; `smoothing` must be the
 * one the model was fitted with. */
export async function imageLabels(fc: FeatureCollection, model: KMeansModel, imageId: string, smoothing = 0): Promise<Int32Array> {
  const g = fc.image(imageId);
  const { vectors, positions } = await fc.mapRows(imageId, smoothing);
  const lab = assign(model, vectors, positions.length);
  const out = new Int32Array(g.gridWidth * g.gridHeight).fill(-1);
  for (let i = 0; i < positions.length; i++) out[positions[i]] = lab[i];
  return out;
}

export function labelRegions(labels: Int32Array, w: number, h: number, cluster: number): Region[] {
  return regions(labels, w, h, cluster);
}
