// The analyses end to end on a feature set searched from LanceDB: the same project answered from the
// in-memory index first, then indexed with `dinoscope index`'s builder under a lowered RAM limit (the
// automatic switch picks LanceDB), then asked again through the real AppService: the same matches and
// scores, the same heatmap scale, the same clusters, and the store stated in the project summary.
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { analysisProject } from '../app/fixture-service.js';
import { buildIndex } from '../features/extract/index-build.js';
import { readStoreRecord } from '../features/index/store.js';
import { writeMosaics, type MosaicSpec } from './fixture.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 32 };
let root: string;
let service: AppService;
let ids: string[];
const saved = process.env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-lance-analysis-'));
  ({ service, ids } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 3, SPEC), SPEC));
}, 60_000);

afterAll(async () => {
  if (saved === undefined) delete process.env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES;
  else process.env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES = saved;
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const setDir = (): string => join(service.requireProject().cacheDir, 'features', 'synthetic-level0');

/** What the analyses answer, and the store the answering collection's index came from. */
async function answers(): Promise<{ store: string; answers: unknown }> {
  const store = (await service.analysis().collection()).index.store;
  const q = await service.similarityQuery({ imageId: ids[0], points: [{ x: 100, y: 300 }], k: 10 });
  const heat = await service.similarityHeatmap(ids[2]);
  const clusters = await service.clusterOverlay(ids[1], 4);
  return {
    store,
    answers: {
      matches: q.matches.map((m) => [m.imageId, m.x, m.y, m.score]),
      scale: q.overlay.scale,
      heatScale: heat.overlay.scale,
      clusters: clusters.legend,
    },
  };
}

describe('a feature set searched from LanceDB', () => {
  it('is chosen automatically above the RAM limit and answers as the in-memory index did', async () => {
    const inMemory = await answers();
    expect(inMemory.store).toBe('memory');
    const project = service.requireProject();
    // Under the default limit this small set stays in memory.
    delete process.env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES;
    const small = await buildIndex(project, undefined);
    expect(small.store).toBe('memory');
    expect(small.storeReason).toMatch(/^in-memory index: 3072 rows need/);
    await expect(access(join(setDir(), 'index', 'store.json'))).rejects.toThrow();
    // Above a (lowered) limit: LanceDB.
    process.env.DINOSCOPE_MEMORY_INDEX_MAX_BYTES = '100000';
    const lines: string[] = [];
    const big = await buildIndex(project, undefined, (l) => lines.push(l));
    expect(big.store).toBe('lancedb');
    expect(big.storeReason).toMatch(/^LanceDB: 3072 rows would need 0\.00 GB of RAM in memory, above the 0\.00 GB limit$/);
    expect(lines.join('\n')).toContain('index: LanceDB: 3072 rows');
    const record = await readStoreRecord(join(setDir(), 'index'));
    expect(record?.table).toMatch(/^vectors-/);
    await access(join(setDir(), 'lancedb', `${record?.table}.lance`));
    const summary = await service.currentProject();
    expect(summary?.featureSets?.[0]).toMatchObject({ indexStore: 'lancedb', indexStoreReason: big.storeReason });
    expect(await answers()).toEqual({ store: 'lancedb', answers: inMemory.answers });
    // And back: --store memory removes the record, the set is searched in memory again.
    const back = await buildIndex(project, undefined, () => {}, { store: 'memory' });
    expect(back.store).toBe('memory');
    expect((await service.currentProject())?.featureSets?.[0].indexStore).toBe('memory');
    expect(await answers()).toEqual(inMemory);
  }, 180_000);

  it('refuses --uri with --store memory in plain words', async () => {
    await expect(buildIndex(service.requireProject(), undefined, () => {}, { store: 'memory', uri: '/tmp/x' })).rejects.toThrow(
      /--uri names a LanceDB database; it cannot be used with --store memory/,
    );
  });
});
