// LiT alignment through the API contract (dispatch → AppService → core/train/align/run.ts, the code path
// `dinoscope align` shares): on two generated texture mosaics and a tiny random DINOv3 backbone, a bad
// pairs file is refused before anything runs with its rows named; the estimate states the pairs, images,
// captions and a start from a fresh tower; a cancelled run leaves the model without a text tower; a run
// reports its two 'align' jobs (backbone features, then steps with the loss and an ETA) and ends done,
// after which the model lists its text tower and features extracted with it are text-searchable; aligned
// once more, text queries refuse that set (it holds the earlier head's embeddings) until it is extracted again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../app/dispatch.js';
import type { AppService } from '../../app/service.js';
import type {
  AlignEstimate,
  AlignRequest,
  AlignSummary,
  JobProgress,
  ModelInfo,
  ProjectSummary,
  SimilarityResult,
} from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { alignProject, quadrants, vocab } from '../../app/align-fixture.js';

/** A tiny text tower, so that a step takes milliseconds. */
const TINY_TOWER = { textDim: 32, textDepth: 1, textHeads: 2, context: 16, headBlocks: 1 };
let root: string;
let service: AppService;
let names: string[];
let modelId: string;
let pairsFile: string;

const call = <T>(method: string, ...args: unknown[]): Promise<T> => dispatch(service, method, args) as Promise<T>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-align-api-'));
  ({ service, names, modelId } = await alignProject(root));
  // Four regions of each quadrant of each mosaic, captioned with the quadrant's texture.
  const lines = ['image,x,y,width,height,caption'];
  for (const { name, qx, qy, caption } of quadrants(names))
    for (let r = 0; r < 4; r++) lines.push(`${name},${qx + 8 * r},${qy + 4 * r},24,24,"${caption}"`);
  pairsFile = join(root, 'pairs.csv');
  await writeFile(pairsFile, `${lines.join('\n')}\n`);
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const textTower = async (): Promise<ModelInfo['textTower']> =>
  (await call<ModelInfo[]>('listModels')).find((m) => m.id === modelId)!.textTower;

describe('alignText / alignEstimate (LiT from the app)', () => {
  it('refuses a pairs file with bad rows before anything runs, naming each row in plain words', async () => {
    const bad = join(root, 'bad.csv');
    await writeFile(
      bad,
      `image,x,y,width,height,caption\n${names[0]},0,0,16,16,pink stripes\nnope.png,0,0,16,16,dots\n${names[1]},0,0,16,16,\n${names[1]},120,0,16,16,far out\n`,
    );
    for (const method of ['alignEstimate', 'alignText']) {
      const err = await call(method, { modelId, pairs: bad, vocab }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DinoscopeError);
      expect((err as DinoscopeError).code).toBe('BAD_INPUT');
      expect((err as Error).message).toMatch(
        /3 bad rows: row 3: no image "nope\.png" in the project; row 4: empty caption; row 5: the region lies outside .* \(128 × 128 px\)\. Fix them/,
      );
    }
    expect(service.jobs.running()).toEqual([]);
    expect(await textTower()).toBeUndefined();
  });

  it('says what is missing: a vocabulary for a model without a text tower, an absolute path', async () => {
    await expect(call('alignEstimate', { modelId, pairs: pairsFile })).rejects.toThrow(
      /has no dino\.txt text tower yet: give vocab \(a BPE vocabulary file/,
    );
    await expect(call('alignEstimate', { modelId, pairs: 'pairs.csv', vocab })).rejects.toThrow(/must be an absolute path/);
    await expect(call('alignEstimate', { modelId, pairs: join(root, 'none.csv'), vocab })).rejects.toThrow(
      /Cannot read the pairs file .*none\.csv/,
    );
  });

  it('estimates before it starts: pairs, images, captions, a new tower of the requested size, seconds', async () => {
    const e = await call<AlignEstimate>('alignEstimate', { modelId, pairs: pairsFile, vocab, steps: 20, batch: 8, ...TINY_TOWER });
    expect(e).toMatchObject({ modelId, pairs: 32, images: 2, captions: 4, steps: 20, batch: 8, start: 'new' });
    expect(e.textTower).toEqual({ width: 32, blocks: 1, heads: 2, context: 16, headBlocks: 1 });
    expect(e.seconds).toBeGreaterThan(0);
  });

  it('a cancelled alignment rejects with CANCELLED and leaves the model without a text tower', async () => {
    let cancelled = false;
    const off = service.on('jobProgress', (p) => {
      if (p.kind === 'align' && /step \d+\//.test(p.message ?? '') && !cancelled) {
        cancelled = true;
        void service.cancelJob(p.jobId);
      }
    });
    try {
      const err = await call('alignText', { modelId, pairs: pairsFile, vocab, steps: 100_000, batch: 8, ...TINY_TOWER }).catch(
        (e: unknown) => e,
      );
      expect((err as DinoscopeError).code).toBe('CANCELLED');
    } finally {
      off();
    }
    expect(cancelled).toBe(true);
    expect(service.jobs.running()).toEqual([]);
    expect(await textTower()).toBeUndefined();
  }, 120_000);

  it('runs as two align jobs with progress and ETA, ends done, and the model gains its text tower', async () => {
    const events: JobProgress[] = [];
    const off = service.on('jobProgress', (p) => {
      if (p.kind === 'align') events.push(p);
    });
    const request: AlignRequest = { modelId, pairs: pairsFile, vocab, steps: 40, batch: 8, lr: 0.003, cropPatches: 4, ...TINY_TOWER };
    let summary: AlignSummary;
    try {
      summary = await call<AlignSummary>('alignText', request);
    } finally {
      off();
    }
    expect(summary).toMatchObject({ model: modelId, pairs: 32, steps: 40 });
    expect(summary.lastLoss).toBeLessThan(summary.firstLoss);
    const labels = [...new Set(events.map((e) => e.label))];
    expect(labels).toEqual([`Align text (${modelId}): backbone features`, `Align text (${modelId})`]);
    const train = events.filter((e) => e.label === `Align text (${modelId})`);
    expect(train.some((e) => e.state === 'running' && /^step \d+\/40, loss [\d.]+$/.test(e.message ?? ''))).toBe(true);
    expect(train.some((e) => e.state === 'running' && e.etaSeconds !== null && e.etaSeconds >= 0)).toBe(true);
    expect(events.filter((e) => e.state !== 'running').map((e) => e.state)).toEqual(['done', 'done']);
    expect(train.at(-1)).toMatchObject({ state: 'done', done: 40, total: 40 });

    const tower = await textTower();
    expect(tower?.source).toBe('dinoscope align on pairs.csv');
    expect(Date.parse(tower!.attached)).toBeGreaterThan(Date.now() - 600_000);
    // A second estimate continues the attached tower, and refuses a new tower's size.
    expect((await call<AlignEstimate>('alignEstimate', { modelId, pairs: pairsFile })).start).toBe('continue');
    await expect(call('alignEstimate', { modelId, pairs: pairsFile, textDim: 64 })).rejects.toThrow(
      /already has a dino\.txt text tower.*leave out textDim/,
    );

    // Features extracted with the model afterwards answer text queries.
    await service.extractFeatures({ modelId, level: 0, mask: 'off' });
    const p = (await call<ProjectSummary>('currentProject'))!;
    expect(p.featureSets?.find((s) => s.modelId === modelId)?.textSearch).toBe(true);
    const query = { imageId: p.images[0].id, text: 'pink stripes', k: 5 };
    expect((await call<SimilarityResult>('textQuery', query)).matches).toHaveLength(5);

    // Aligned again, the model's tower embeds text in another space than the set's patch embeddings
    // (its earlier head's): text queries refuse the set, saying to extract again, until it is.
    await call<AlignSummary>('alignText', { modelId, pairs: pairsFile, steps: 2, batch: 8, cropPatches: 4 });
    await expect(call('textQuery', query)).rejects.toThrow(
      new RegExp(
        `text tower of model ${modelId} changed \\(aligned or attached again, .*\\) since the feature set .* was extracted with it: extract features with ${modelId} again`,
      ),
    );
    await service.extractFeatures({ modelId, level: 0, mask: 'off' });
    expect((await call<SimilarityResult>('textQuery', query)).matches).toHaveLength(5);
  }, 300_000);
});
