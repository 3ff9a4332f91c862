// Builds a feature set's search index from its stores, once, after shards extracted them without it
// (`dinoscope index`, docs/cluster.md). Images go in the project's order with the rows index-update.ts
// writes (tissue patches of the image's thumbnail mask), so the index equals the one a single
// `dinoscope extract` run over the same images builds as it goes. Rows already in the index are kept
// (an interrupted build resumes); images whose store is not complete are left out and named.
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DinoscopeError, FieldError } from '../../common/errors.js';
import { renderThumbnail } from '../../data/thumbnail.js';
import { cachedTissueMask } from '../../data/tissue-mask-cache.js';
import { openImage } from '../../data/readers/registry.js';
import { readablePath } from '../../project/importer.js';
import type { Project } from '../../project/project.js';
import type { StoredFeatureSet } from '../../project/schema.js';
import { buildLanceStore } from '../index/lance-build.js';
import type { IndexStore } from '../index/search-index.js';
import { resolveStore, storeRecordPath, type StoreChoice } from '../index/store.js';
import { openFeatureStore } from '../store/reader.js';
import { indexImage, openOrCreateIndex } from './index-update.js';
import { patchMask } from './tissue.js';

export interface IndexBuildSummary {
  featureSet: string;
  /** Images in the index, with their rows, in index order. */
  images: { imageId: string; name: string; indexedRows: number; added: number }[];
  /** Images of the set whose store is not complete (their shard has to be rerun), left out. */
  incomplete: { imageId: string; name: string }[];
  rows: number;
  /** Where the index is searched from, and why (core/features/index/store.ts). */
  store: IndexStore;
  storeReason: string;
  seconds: number;
}

export interface IndexBuildOptions {
  /** memory, lancedb, or auto (default: by the RAM the in-memory index would need). */
  store?: StoreChoice;
  /** LanceDB database URL (s3://, gs://, az:// or a folder); default the set's own lancedb/ folder. */
  uri?: string;
}

/** The set `id`, or the active one, or the only one. */
export function chooseSet(project: Project, id: string | undefined): StoredFeatureSet {
  const sets = project.featureSets();
  if (id !== undefined) {
    const set = sets.find((s) => s.id === id);
    if (!set)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${project.dir} has no feature set "${id}" (${sets.length ? `it has: ${sets.map((s) => s.id).join(', ')}` : 'it has none yet: extract features first'}).`,
      );
    return set;
  }
  const set = project.activeFeatureSet() ?? (sets.length === 1 ? sets[0] : null);
  if (!set)
    throw sets.length
      ? new FieldError(
          'set',
          `this project has several feature sets and none is active: name one (${sets.map((s) => s.id).join(', ')}).`,
          project.dir,
        )
      : new DinoscopeError('BAD_INPUT', `${project.dir} has no feature set yet: extract features first.`);
  return set;
}

/** The tissue patches of an image's grid, as extraction indexes them (null: no tissue found, every patch). */
async function tissueOf(
  project: Project,
  imageId: string,
  path: string,
  width: number,
  height: number,
  stride: number,
  gridWidth: number,
  gridHeight: number,
): Promise<Uint8Array | null> {
  const thumb = await readFile(project.thumbnailPath(imageId)).catch(async () => {
    const reader = await openImage(path);
    try {
      return await renderThumbnail(reader);
    } finally {
      await reader.close();
    }
  });
  const mask = await cachedTissueMask(thumb, project.tissueMaskPath(imageId));
  return mask.data.some((v) => v === 1) ? patchMask(mask, width, height, stride, gridWidth, gridHeight) : null;
}

export async function buildIndex(
  project: Project,
  setId: string | undefined,
  log: (line: string) => void = () => {},
  opts: IndexBuildOptions = {},
): Promise<IndexBuildSummary> {
  const t0 = performance.now();
  const set = chooseSet(project, setId);
  if (opts.uri !== undefined && opts.store === 'memory')
    throw new DinoscopeError('BAD_INPUT', '--uri names a LanceDB database; it cannot be used with --store memory.');
  const setDir = resolve(project.dir, set.dir);
  const index = await openOrCreateIndex(join(setDir, 'index'), set.dim);
  const entries = new Map(set.images.map((e) => [e.imageId, e]));
  const summary: IndexBuildSummary = {
    featureSet: set.id,
    images: [],
    incomplete: [],
    rows: 0,
    store: 'memory',
    storeReason: '',
    seconds: 0,
  };
  for (const img of project.images()) {
    const e = entries.get(img.id);
    if (!e) continue;
    if (!e.complete || !img.meta) {
      summary.incomplete.push({ imageId: img.id, name: img.name });
      log(`${img.path}: its features are not complete; left out of the index (rerun its extraction, then this).`);
      continue;
    }
    const store = await openFeatureStore(resolve(project.dir, e.store));
    const m = store.manifest;
    const before = (index.image(img.id)?.ranges ?? []).reduce((s, [, n]) => s + n, 0);
    const tissue = await tissueOf(
      project,
      img.id,
      readablePath(project, img),
      img.meta.width,
      img.meta.height,
      m.stride,
      m.gridWidth,
      m.gridHeight,
    );
    const indexedRows = await indexImage(index, img.id, store, tissue);
    await project.update((p) => {
      const current = p.featureSets().find((s) => s.id === set.id && s.modelConfigHash === set.modelConfigHash);
      if (!current) return;
      p.upsertFeatureSet({ ...current, images: current.images.map((x) => (x.imageId === img.id ? { ...x, indexedRows } : x)) });
    });
    summary.images.push({ imageId: img.id, name: img.name, indexedRows, added: indexedRows - before });
    summary.rows += indexedRows;
    log(`${img.path}: ${indexedRows} rows in the index (${indexedRows - before} added).`);
  }
  const choice = opts.store ?? (opts.uri !== undefined ? 'lancedb' : 'auto');
  const { store, reason } = resolveStore(choice, index.size, set.dim);
  log(`index: ${reason}.`);
  const indexDir = join(setDir, 'index');
  if (store === 'lancedb') await buildLanceStore(indexDir, setDir, { uri: opts.uri ?? null, log });
  else await rm(storeRecordPath(indexDir), { force: true }); // searched in memory from now on
  await project.update((p) => {
    const current = p.featureSets().find((s) => s.id === set.id && s.modelConfigHash === set.modelConfigHash);
    // updatedAt changes so an open analysis service reopens the set from its new store.
    if (current) p.upsertFeatureSet({ ...current, indexStore: { store, reason }, updatedAt: new Date().toISOString() });
  });
  summary.store = store;
  summary.storeReason = reason;
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}
