// The collection PCA's fit on a sample: without a threshold (a masked set: the tissue mask is the
// foreground) no base basis is fitted or projected, and the colours are those of the foreground PCA over
// every row, exactly as when the base's all-foreground mask chose them; with a threshold the base is there.
import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 as rng } from '../common/random.js';
import { foregroundPca, project, rgbRanges } from '../features/pca.js';
import { fitSamplePca } from './pca-maps.js';

/** n rows of dimension d around 4 directions, seeded. */
function sample(n: number, d: number): Float32Array {
  const noise = gaussian(rng(11));
  const out = new Float32Array(n * d); // (n, d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (j % 4 === i % 4 ? 1 : 0) + 0.2 * noise();
  return out;
}

describe('fitSamplePca', () => {
  const [n, d] = [600, 16];
  const data = sample(n, d);

  it('without a threshold fits no base basis, and colours every row by the foreground PCA of all rows', () => {
    const fit = fitSamplePca(data, d, null);
    expect(fit.base).toBeNull();
    expect(fit.threshold).toBeNull();
    expect(fit.samples).toBe(n);
    // What the base's mask gave before: every row foreground, the foreground PCA fitted on all of them.
    const all = foregroundPca(data, n, d, new Uint8Array(n).fill(1), 3);
    expect(Array.from(fit.fg.components)).toEqual(Array.from(all.components));
    expect(fit.ranges).toEqual(rgbRanges(project(all, data, n), n, 3));
  });

  it('without a threshold ignores a base it is handed (nothing to threshold)', () => {
    const thresholded = fitSamplePca(data, d, 0);
    expect(thresholded.base).not.toBeNull();
    const fit = fitSamplePca(data, d, null, thresholded.base ?? undefined);
    expect(fit.base).toBeNull();
    expect(Array.from(fit.fg.components)).toEqual(Array.from(fitSamplePca(data, d, null).fg.components));
  });

  it('with a threshold fits the base whose first component chose the foreground', () => {
    const fit = fitSamplePca(data, d, -1e9);
    expect(fit.base?.components).toHaveLength(3 * d);
    expect(fit.threshold).toBe(-1e9);
  });
});
