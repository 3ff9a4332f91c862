import { describe, expect, it } from 'vitest';
import { exportRequests, FORMATS } from './plan.js';

describe('export plan', () => {
  it('per-image exports are sent image by image; QuPath and query exports in one request', () => {
    const c = { k: 5, pixelsPerPatch: 2, imageIds: ['a', 'b'], dir: null };
    expect(exportRequests({ ...c, format: 'png', what: 'clusters' })).toEqual([
      { format: 'png', what: 'clusters', k: 5, pixelsPerPatch: 2, imageIds: ['a'] },
      { format: 'png', what: 'clusters', k: 5, pixelsPerPatch: 2, imageIds: ['b'] },
    ]);
    expect(exportRequests({ ...c, format: 'qupath', what: 'clusters', dir: '/out' })).toEqual([
      { format: 'qupath', what: 'clusters', k: 5, imageIds: ['a', 'b'], dir: '/out' },
    ]);
    expect(exportRequests({ ...c, format: 'csv', what: 'search' })).toEqual([{ format: 'csv', what: 'search' }]);
    expect(exportRequests({ ...c, format: 'zarr', what: 'features' })).toHaveLength(2);
  });

  it("PCA maps carry the panel's threshold when one is typed, else the set's own foreground", () => {
    const c = { k: 5, pixelsPerPatch: 1, imageIds: ['a'], dir: null, format: 'png' as const };
    expect(exportRequests({ ...c, what: 'pca', pcaThreshold: 0.25 })).toEqual([
      { format: 'png', what: 'pca', pcaThreshold: 0.25, pixelsPerPatch: 1, imageIds: ['a'] },
    ]);
    expect(exportRequests({ ...c, what: 'pca', pcaThreshold: null })).toEqual([
      { format: 'png', what: 'pca', pixelsPerPatch: 1, imageIds: ['a'] },
    ]);
    expect(exportRequests({ ...c, what: 'clusters', pcaThreshold: 0.25 })[0]).not.toHaveProperty('pcaThreshold');
  });

  it('offers every format the core exports', () => {
    expect(FORMATS.map((f) => f.format).sort()).toEqual(['csv', 'geojson', 'npy', 'ome-tiff', 'png', 'qupath', 'safetensors', 'zarr']);
  });
});
