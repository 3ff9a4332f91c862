// Messages to and from the fit thread (fit.worker.ts): the k-means and PCA fits of the analysis service,
// on samples it draws. Requests carry an id their answer repeats; errors come back as the envelope.
import type { ErrorEnvelope } from '../common/errors.js';
import type { KMeansModel, KMeansOptions } from '../features/kmeans.js';
import type { PcaModel } from '../features/pca.js';
import type { PcaFit } from './pca-maps.js';

export type ToFitThread =
  /** kmeans(data, n, d, options) of core/features/kmeans.ts; data is (n, d). */
  | { id: number; op: 'kmeans'; data: Float32Array; d: number; options: KMeansOptions }
  /** fitSamplePca of pca-maps.ts. */
  | { id: number; op: 'pca'; data: Float32Array; d: number; threshold: number | null; base?: PcaModel };

export type FromFitThread = { id: number; ok: KMeansModel | PcaFit } | { id: number; error: ErrorEnvelope };
