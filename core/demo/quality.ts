// How well a demo feature set shows the generated tissue types: what a newcomer judges by eye in the cluster
// and similarity views, measured against the generator's own ground truth (layout.ts regionAt).
//   ARI       the app's own cluster map (core/analysis/cluster-maps.ts: spherical k-means on a sample of
//             indexed patches, every patch assigned, after the maps' default neighbour smoothing) with k = the
//             number of textures, against the texture of each labelled indexed patch; `ariUnsmoothed` the same
//             with the smoothing off;
//   PCA       how region-coherent the app's PCA map is (its default foreground and smoothing): the share of
//             labelled patches whose map colour is nearer their own texture's mean colour (over every slide)
//             than any other texture's;
//   p@10      same-texture precision of the 10 nearest patches (cosine) on the OTHER slides, every 4th
//             labelled patch a query (core/train/health/retrieval.ts);
//   coverage  the share of the labelled tissue patches that are indexed at all (the foreground mask keeps
//             the rest out of search and clusters), overall and per texture.
// A patch is labelled with the texture covering ≥ 80 % of its window (regionOfWindow); border patches and
// background are unlabelled.
import { fitClusters, imageLabels } from '../analysis/cluster-maps.js';
import { fitCollectionPca, pcaDefaultThreshold, pcaImageRgba } from '../analysis/pca-maps.js';
import { chooseFeatureSet, FeatureCollection } from '../analysis/collection.js';
import { DEFAULT_MAP_SMOOTHING } from '../common/map-smoothing.js';
import type { Project } from '../project/project.js';
import { adjustedRandIndex } from '../train/health/ari.js';
import { retrievalPrecision } from '../train/health/retrieval.js';
import { demoImageName, layoutOf, type DemoSpec } from './generate.js';
import { regionOfWindow } from './layout.js';
import { TEXTURE_COUNT } from './textures.js';

/** The Quick steps the demo's default 3 minutes bought on a quiet 2-core machine (bench/RESULTS.md): the
 * budget demo-quality.test.ts measures the demo after, by steps so that the machine's load does not change
 * the figure. */
export const DEMO_DEFAULT_STEPS = 270;

export interface DemoQuality {
  ari: number;
  ariUnsmoothed: number;
  /** Nearest-texture-colour accuracy of the PCA map (unsmoothed: the same with the smoothing off). */
  pcaAccuracy: number;
  pcaAccuracyUnsmoothed: number;
  p10: number;
  /** Indexed share of the labelled tissue patches, and per texture (TEXTURE_NAMES order). */
  coverage: number;
  coverageByTexture: number[];
  /** Labelled indexed patches the figures are over. */
  patches: number;
}

/** The demo quality of feature set `setId` of the demo project (images named by demoImageName). */
export async function demoQuality(project: Project, setId: string, spec: DemoSpec): Promise<DemoQuality> {
  const fc = await FeatureCollection.open(project, chooseFeatureSet(project, setId));
  const d = fc.index.dim;
  const model = await fitClusters(fc, TEXTURE_COUNT, DEFAULT_MAP_SMOOTHING);
  const raw = await fitClusters(fc, TEXTURE_COUNT, 0);
  const threshold = pcaDefaultThreshold(fc.set);
  const pca = await fitCollectionPca(fc, threshold, undefined, DEFAULT_MAP_SMOOTHING);
  const pcaRaw = await fitCollectionPca(fc, threshold, undefined, 0);
  const colours: number[] = []; // (labelled, 3) PCA map RGB
  const coloursRaw: number[] = [];
  const labels: number[] = [];
  const found: number[] = [];
  const foundRaw: number[] = [];
  const image: number[] = [];
  const gxs: number[] = [];
  const gys: number[] = [];
  const rows: Float32Array[] = [];
  const tissue = new Array<number>(TEXTURE_COUNT).fill(0);
  const indexed = new Array<number>(TEXTURE_COUNT).fill(0);
  for (const [imageIndex, img] of project.images().entries()) {
    const i = Array.from({ length: spec.images }, (_, k) => k).find((k) => demoImageName(k) === img.name);
    if (i === undefined) throw new Error(`demoQuality: ${img.name} is not a demo slide`);
    const g = fc.image(img.id);
    const layout = layoutOf(i, spec);
    const texture = new Int32Array(g.gridWidth * g.gridHeight);
    for (let gy = 0; gy < g.gridHeight; gy++)
      for (let gx = 0; gx < g.gridWidth; gx++) {
        const t = regionOfWindow(layout, g.origin.x + gx * g.stride, g.origin.y + gy * g.stride, g.stride) ?? -1;
        texture[gy * g.gridWidth + gx] = t;
        if (t >= 0) tissue[t]++;
      }
    const cluster = await imageLabels(fc, model, img.id, DEFAULT_MAP_SMOOTHING);
    const clusterRaw = await imageLabels(fc, raw, img.id, 0);
    const rgba = await pcaImageRgba(fc, pca, img.id);
    const rgbaRaw = await pcaImageRgba(fc, pcaRaw, img.id);
    const { vectors, positions } = await fc.imageRows(img.id);
    for (let r = 0; r < positions.length; r++) {
      const p = positions[r];
      const t = texture[p];
      if (t < 0) continue;
      indexed[t]++;
      labels.push(t);
      found.push(cluster[p]);
      foundRaw.push(clusterRaw[p]);
      colours.push(rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]);
      coloursRaw.push(rgbaRaw[4 * p], rgbaRaw[4 * p + 1], rgbaRaw[4 * p + 2]);
      image.push(imageIndex);
      gxs.push(p % g.gridWidth);
      gys.push(Math.floor(p / g.gridWidth));
      rows.push(vectors.subarray(r * d, (r + 1) * d));
    }
  }
  const n = labels.length;
  const features = new Float32Array(n * d);
  rows.forEach((v, r) => features.set(v, r * d));
  const queries = Int32Array.from({ length: Math.ceil(n / 4) }, (_, q) => 4 * q);
  const p10 = retrievalPrecision(
    { features, n, d, labels: Int32Array.from(labels), image: Int32Array.from(image), gx: Int32Array.from(gxs), gy: Int32Array.from(gys) },
    // Another slide's patches only: a radius larger than any grid excludes the query's whole slide.
    { k: 10, exclusionRadius: 1 << 20, queries },
  );
  const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
  return {
    ari: adjustedRandIndex(labels, found),
    ariUnsmoothed: adjustedRandIndex(labels, foundRaw),
    pcaAccuracy: nearestMeanAccuracy(colours, labels),
    pcaAccuracyUnsmoothed: nearestMeanAccuracy(coloursRaw, labels),
    p10,
    coverage: sum(indexed) / Math.max(1, sum(tissue)),
    coverageByTexture: tissue.map((t, k) => indexed[k] / Math.max(1, t)),
    patches: n,
  };
}

/** Share of rows (n, 3) nearer their own label's mean than any other label's: how well colour tells the
 * textures apart on the map (1: each texture one colour, apart from the others). */
function nearestMeanAccuracy(rgb: number[], labels: number[]): number {
  const mean = Array.from({ length: TEXTURE_COUNT }, () => [0, 0, 0, 0]); // r, g, b, count
  labels.forEach((t, i) => {
    for (let c = 0; c < 3; c++) mean[t][c] += rgb[3 * i + c];
    mean[t][3]++;
  });
  for (const m of mean) for (let c = 0; c < 3; c++) m[c] /= Math.max(1, m[3]);
  let right = 0;
  labels.forEach((t, i) => {
    let best = -1;
    let bestD = Infinity;
    mean.forEach((m, k) => {
      if (!m[3]) return;
      const dd = (rgb[3 * i] - m[0]) ** 2 + (rgb[3 * i + 1] - m[1]) ** 2 + (rgb[3 * i + 2] - m[2]) ** 2;
      if (dd < bestD) [best, bestD] = [k, dd];
    });
    if (best === t) right++;
  });
  return right / Math.max(1, labels.length);
}
