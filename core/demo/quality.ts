// How well a demo feature set shows the generated tissue types: what a newcomer judges by eye in the cluster
// and similarity views, measured against the generator's own ground truth (layout.ts regionAt).
//   ARI       the app's own cluster map (core/analysis/cluster-maps.ts: spherical k-means on a sample of
//             indexed patches, every patch assigned) with k = the number of textures, against the texture of
//             each labelled indexed patch;
//   p@10      same-texture precision of the 10 nearest patches (cosine) on the OTHER slides, every 4th
//             labelled patch a query (core/train/health/retrieval.ts);
//   coverage  the share of the labelled tissue patches that are indexed at all (the foreground mask keeps
//             the rest out of search and clusters), overall and per texture.
// A patch is labelled with the texture covering ≥ 80 % of its window (regionOfWindow); border patches and
// background are unlabelled.
import { fitClusters, imageLabels } from '../analysis/cluster-maps.js';
import { chooseFeatureSet, FeatureCollection } from '../analysis/collection.js';
import type { Project } from '../project/project.js';
import { adjustedRandIndex } from '../train/health/ari.js';
import { retrievalPrecision } from '../train/health/retrieval.js';
import { demoImageName, layoutOf, type DemoSpec } from './generate.js';
import { regionOfWindow } from './layout.js';
import { TEXTURE_COUNT } from './textures.js';

export interface DemoQuality {
  ari: number;
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
  const model = await fitClusters(fc, TEXTURE_COUNT);
  const labels: number[] = [];
  const found: number[] = [];
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
    const cluster = await imageLabels(fc, model, img.id);
    const { vectors, positions } = await fc.imageRows(img.id);
    for (let r = 0; r < positions.length; r++) {
      const p = positions[r];
      const t = texture[p];
      if (t < 0) continue;
      indexed[t]++;
      labels.push(t);
      found.push(cluster[p]);
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
    p10,
    coverage: sum(indexed) / Math.max(1, sum(tissue)),
    coverageByTexture: tissue.map((t, k) => indexed[k] / Math.max(1, t)),
    patches: n,
  };
}
