// How a curated set's sampling weights (core/features/curation/weights.ts) reach the official trainers.
// Their data loaders cannot take per-tile weights: dinov2|dinov3/data/loaders.py make_data_loader draws a
// map-style dataset's indices through InfiniteSampler, ShardedInfiniteSampler or EpochSampler, each uniform
// over the indices (random permutations), their train.py picks the sampler itself, and ssl_default_config.yaml
// has no sampler or weight key. So the weights go into the list: tile i is written m_i times, m_i ∝ w_i, and
// the uniform sampler over rows then draws every tile in proportion to its weight.
//
// Rounding (stated so the shares can be checked): tiles in top-level cluster order, running sums
// C_k = s · (w_1 + … + w_k), m_k = round(C_k) − round(C_{k−1}). A run of consecutive tiles, so each top-level
// cluster, gets its exact s · Σ w rows within less than one row, and the list has round(s · Σ w) rows.
// Scale s: the lightest positive weight makes one row (s = 1 / w_min), so every tile with a weight above 0 is
// listed (C grows by at least 1 a tile); when that would pass `maxRows(n)` rows, s = maxRows / Σ w instead:
// tiles lighter than 1 / s then share their rows in proportion (some get none) and the shares still hold.
// A tile of weight 0 gets no row (the pretraining sampler never draws it either).
import type { ListedTile } from '../../data/train/tile-list.js';

/** The most rows a weighted list of n tiles is written as: 4 a tile on average, at least a million. */
export const maxRows = (n: number): number => Math.max(4 * n, 1_000_000);

export interface WeightedRows {
  /** Rows of each tile of the list, in list order. */
  copies: Int32Array;
  rows: number;
  /** Rows per unit weight, or null for a list without weights (one row a tile). */
  scale: number | null;
  /** Tiles with a weight above 0 that got no row (only when the scale was capped by maxRows). */
  unlisted: number;
}

export function weightedRows(tiles: readonly ListedTile[], limit = maxRows(tiles.length)): WeightedRows {
  const n = tiles.length;
  if (!tiles.some((t) => t.weight !== undefined)) return { copies: new Int32Array(n).fill(1), rows: n, scale: null, unlisted: 0 };
  const w = tiles.map((t) => t.weight ?? 0);
  const total = w.reduce((a, b) => a + b, 0);
  // A loop, not Math.min(...): a spread of a million tiles' weights overflows the call stack.
  const lightest = w.reduce((m, x) => (x > 0 && x < m ? x : m), Infinity);
  // 1 + 1e-9: the lightest tile's share of C must not round below 1 by floating error.
  const scale = Math.min((1 + 1e-9) / lightest, limit / total);
  // Stable order by top-level cluster (tiles without one last), so each cluster is one run of the sums.
  const order = [...tiles.keys()].sort((a, b) => (tiles[a].cluster ?? Infinity) - (tiles[b].cluster ?? Infinity) || a - b);
  const copies = new Int32Array(n);
  let sum = 0;
  let before = 0;
  for (const i of order) {
    sum += w[i] * scale;
    const at = Math.round(sum);
    copies[i] = at - before;
    before = at;
  }
  const unlisted = w.filter((x, i) => x > 0 && copies[i] === 0).length;
  return { copies, rows: before, scale, unlisted };
}
