// Does curated sampling lift the rare textures? Pretraining from scratch on the skewed collection
// (skewed-collection.ts) with the pretraining quality test's small settings (ViT width 64, 2 blocks, patch 4,
// 32 px global crops, K 16, Sinkhorn-Knopp τ 0.02, EMA momentum 0.8, base lr 0.05, B 16), once sampling every
// image's tissue uniformly and once from a curated set, for the same steps and seed; scored by same-texture
// precision@10 of the teacher's patch tokens on the quality test's held-out balanced mosaics (textures.ts
// quadrants, seed 2, 4 × 128 px; exclusion radius one crop), over the rare textures' patches as queries (1–3)
// and over texture 0's. Used by curated-weights-quality.test.ts (one seed) and `npm run bench -- curation`.
import type { Project } from '../../project/project.js';
import { RECIPE_LAYER_LR, type TrainConfig, trainConfig } from '../config.js';
import { type RetrievalSet, retrievalPrecision } from '../health/retrieval.js';
import { Trainer } from '../trainer.js';
import { backboneSet } from './patch-sets.js';
import type { QualityMosaicSpec } from './textures.js';

const PATCH = 4;
const GLOBAL = 32;
const RADIUS = GLOBAL / PATCH;
const HELD: QualityMosaicSpec = { side: 128, frame: 4, seed: 2 };
const HELD_IMAGES = [0, 1, 2, 3];

/** precision@10 with the labelled patches of `textures` as queries. */
export function texturePrecision(s: RetrievalSet, textures: readonly number[]): number {
  const queries = Int32Array.from({ length: s.n }, (_, i) => i).filter((i) => textures.includes(s.labels[i]));
  return retrievalPrecision(s, { k: 10, exclusionRadius: RADIUS, queries });
}

/** The run's config: `tiles` null samples uniformly, else the project's curated set of that name. */
export function curationConfig(seed: number, steps: number, tiles: string | null, threads = 2): TrainConfig {
  return trainConfig('quick', {
    seed,
    steps,
    batchSize: 16,
    model: {
      size: 'tiny',
      vit: { arch: 'dinov2', patchSize: PATCH, registers: 2, dim: 64, depth: 2, heads: 4, posEmbed: { gridSize: GLOBAL / PATCH } },
      from: null,
    },
    crops: { globalSize: GLOBAL, localSize: 16, localCrops: 4 },
    head: { prototypes: 16, hidden: 256, bottleneck: 64 },
    // The recipe's layer-wise lr decay and patch-embedding lr, with which these runs were measured (the Quick
    // preset turns both off for its own size).
    optim: { baseLr: 0.05, ...RECIPE_LAYER_LR },
    teacher: { momentum: 0.8, centering: 'sinkhorn', tempStart: 0.02, temp: 0.02 },
    data: { tiles },
    runtime: { threads },
  });
}

export interface CurationScore {
  /** p@10 with rare-texture queries, and with texture-0 queries. */
  rare: number;
  common: number;
  seconds: number;
  /** The same of the model at its random initialisation (when asked for). */
  init?: { rare: number; common: number };
}

/** Trains `config` on the project for its steps and scores the teacher; `withInit` also scores the random init. */
export async function trainAndScore(
  project: Project,
  config: TrainConfig,
  o: { withInit?: boolean; log?: (line: string) => void } = {},
): Promise<CurationScore> {
  const tr = await Trainer.forProject(config, project, o.log ? { log: o.log } : {});
  try {
    const score = async (): Promise<{ rare: number; common: number }> => {
      const set = await backboneSet(HELD, HELD_IMAGES, tr.vit, await tr.teacherBackbone(), GLOBAL);
      return { rare: texturePrecision(set, [1, 2, 3]), common: texturePrecision(set, [0]) };
    };
    const init = o.withInit ? await score() : undefined;
    const t0 = performance.now();
    for (let i = 0; i < config.steps; i++) await tr.step();
    const seconds = (performance.now() - t0) / 1000;
    return { ...(await score()), seconds, ...(init ? { init } : {}) };
  } finally {
    await tr.close();
  }
}
