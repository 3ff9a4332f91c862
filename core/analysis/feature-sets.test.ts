// The active feature set on a real project with real extractions (a random tiny ViT in the project's
// models folder over texture mosaics): the first completed extraction becomes active; a second one, or a
// cancelled one, does not take over; choosing a set is persisted and drops the earlier results; an image
// outside the active set gets an error naming its file; deleting a set removes its files; the extraction
// estimate counts patches and uses the measured rate. Also projects made before the choice was recorded.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppService } from '../app/service.js';
import { estimateExtraction, flopsPerPatch } from '../features/extract/estimate.js';
import { runCli } from '../cli/main.js';
import { extractFeatures } from '../features/extract/project.js';
import { vitConfig } from '../model/config.js';
import { projectModelsDir } from '../model/manager/paths.js';
import { initParams } from '../model/params.js';
import { exportWeights } from '../model/weights/export.js';
import type { WeightTensor } from '../model/weights/safetensors.js';
import { Project } from '../project/project.js';
import { writeMosaics, writeSyntheticFeatures, type MosaicSpec } from './fixture.js';
import { importedProject } from '../app/fixture-service.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 16 }; // 32 × 32 patches: 4 tiles of 16 × 16
let root: string;
let service: AppService;
let ids: string[];
let names: string[];

async function addModel(projectDir: string, id: string, seed: number): Promise<void> {
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, seed)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(projectDir), id), cfg, tensors, 'hf');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-feature-sets-'));
  ({ service, ids, names } = await importedProject(root, await writeMosaics(join(root, 'slides'), 2, SPEC)));
  await addModel(join(root, 'project'), 'first', 3);
  await addModel(join(root, 'project'), 'second', 4);
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const stored = async (): Promise<{ activeFeatureSet?: string | null; features: { id: string }[] }> =>
  JSON.parse(await readFile(join(root, 'project', 'project.json'), 'utf8'));

describe('the active feature set', () => {
  it('is the first completed extraction; a later or cancelled one does not switch it', async () => {
    const first = await service.extractFeatures({ modelId: 'first', level: 0, device: 'cpu' });
    let summary = (await service.currentProject())!;
    expect(summary.activeFeatureSet).toBe(first.featureSet);
    expect((await stored()).activeFeatureSet).toBe(first.featureSet);
    expect(summary.images.every((i) => i.hasFeatures)).toBe(true);

    // A second model's extraction of one image completes after it: the analyses stay on the first set
    // (before, the most recently updated set was used, and image 1 then had "no features").
    const second = await service.extractFeatures({ modelId: 'second', level: 0, device: 'cpu', imageIds: [ids[0]] });
    // A run of the second set over the other image, cancelled after its first tile: partial, never active.
    const controller = new AbortController();
    const cancelled = extractFeatures(
      service.requireProject(),
      service.models,
      { modelId: 'second', level: 0, device: 'cpu', imageIds: [ids[1]], context: 'tiled', batch: 1 },
      { signal: controller.signal, progress: () => controller.abort() },
    );
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    summary = (await service.currentProject())!;
    expect(summary.activeFeatureSet).toBe(first.featureSet);
    expect(summary.featureSets!.map((s) => [s.id, s.active, s.imagesWithFeatures, s.images])).toEqual([
      [first.featureSet, true, 2, 2],
      [second.featureSet, false, 1, 2],
    ]);
    expect(summary.featureSets![0]).toMatchObject({
      modelId: 'first',
      level: 0,
      mpp: null,
      dim: 64,
      patches: first.images.reduce((s, i) => s + i.indexedRows, 0),
    });
    const r = await service.similarityQuery({ imageId: ids[1], points: [{ x: 50, y: 50 }], k: 3 });
    expect(r.featureSet).toBe(first.featureSet);
  }, 120_000);

  it('is chosen explicitly: persisted, the cards follow it, earlier results are dropped, a missing image is named', async () => {
    const [a, b] = (await service.currentProject())!.featureSets!.map((s) => s.id);
    await service.similarityQuery({ imageId: ids[0], points: [{ x: 50, y: 50 }], k: 3 });
    expect(service.analysis().layer('similarity', ids[0])).toBeDefined();
    const summary = await service.setActiveFeatureSet(b);
    expect(summary.activeFeatureSet).toBe(b);
    expect((await stored()).activeFeatureSet).toBe(b);
    expect(summary.images.map((i) => i.hasFeatures === true)).toEqual([true, false]);
    expect(service.analysis().layer('similarity', ids[0])).toBeUndefined();
    expect(service.analysis().last).toBeNull();
    // Image 1 has only a cancelled, partial extraction in set b: the error names the file and what to do.
    const err = await service.similarityQuery({ imageId: ids[1], points: [{ x: 50, y: 50 }] }).then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ code: 'BAD_INPUT' });
    expect(err.message).toContain(names[1]);
    expect(err.message).not.toContain(ids[1]);
    expect(err.message).toContain(`active feature set "${b}" (model second, level 0)`);
    expect(err.message).toMatch(/stopped part-way.*Extract features.*choose a feature set/);
    // Reopened in a new process, the choice stands.
    expect((await Project.open(join(root, 'project'))).activeFeatureSet()?.id).toBe(b);
    await expect(service.setActiveFeatureSet('nope')).rejects.toThrow(`has no feature set "nope" (it has: ${a}, ${b})`);
    // A completed run asked to become active does.
    const again = await service.extractFeatures({ modelId: 'first', level: 0, device: 'cpu', activate: true });
    expect(again.featureSet).toBe(a);
    expect((await service.currentProject())!.activeFeatureSet).toBe(a);
  }, 120_000);

  it('deleting a set removes its folder and record; with the active one gone, none is active until chosen or extracted', async () => {
    const [a, b] = (await service.currentProject())!.featureSets!.map((s) => s.id);
    const dirB = join(root, 'project', 'cache', 'features', b);
    expect((await stat(dirB)).isDirectory()).toBe(true);
    await service.deleteFeatureSet(b);
    await expect(stat(dirB)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stored()).features.map((s) => s.id)).toEqual([a]);
    await service.deleteFeatureSet(a);
    const summary = (await service.currentProject())!;
    expect(summary.featureSets).toBeUndefined();
    expect(summary.images.some((i) => i.hasFeatures)).toBe(false);
    expect((await stored()).activeFeatureSet).toBeNull();
    await expect(service.similarityQuery({ imageId: ids[0], points: [{ x: 50, y: 50 }] })).rejects.toThrow(/no features extracted yet/);
    const s = await service.extractFeatures({ modelId: 'second', level: 0, device: 'cpu' });
    expect((await service.currentProject())!.activeFeatureSet).toBe(s.featureSet);
  }, 120_000);

  it('the extraction estimate counts the patches still to extract and uses the measured rate', async () => {
    const done = await service.extractEstimate({ modelId: 'second', level: 0, device: 'cpu' });
    expect(done).toMatchObject({ images: 2, done: 2, patches: 0, seconds: 0, rateFrom: 'measured', device: 'cpu' });
    // "first"'s sets are deleted: its rate is "second"'s measured one, scaled (the same architecture: equal).
    const fresh = await service.extractEstimate({ modelId: 'first', level: 0, device: 'cpu' });
    const grid = SPEC.side / 14;
    expect(fresh).toMatchObject({ images: 2, done: 0, patches: 2 * grid * grid, rateFrom: 'scaled', rateModel: 'second', device: 'cpu' });
    expect(fresh.patchesPerSecond).toBeCloseTo(done.patchesPerSecond);
    expect(fresh.grids.map((g) => [g.name, g.gridWidth, g.gridHeight])).toEqual(names.map((n) => [n, grid, grid]));
    expect(fresh.patchesPerSecond).toBeGreaterThan(0);
    expect(fresh.seconds).toBeCloseTo(fresh.patches / fresh.patchesPerSecond);
    // No run on a GPU yet: estimated from the model's size (a benchmark's compute rate over its FLOPs).
    const model = await service.models.find('first');
    const gpu = estimateExtraction(service.requireProject(), model, { modelId: 'first', level: 0 }, 'webgpu', await service.models.list());
    expect(gpu).toMatchObject({ rateFrom: 'estimated', device: 'webgpu', patches: 2 * grid * grid });
    expect(gpu.patchesPerSecond).toBeCloseTo(7.4e12 / flopsPerPatch(model));
    // A PNG states no µm/px: an mpp extraction is refused for both, with the reason.
    const mpp = await service.extractEstimate({ modelId: 'first', mpp: 2, device: 'cpu' });
    expect(mpp.images).toBe(0);
    expect(mpp.refused.map((r) => r.name)).toEqual(names);
    expect(mpp.refused[0].reason).toMatch(/states no resolution/);
  }, 60_000);

  it('dinoscope extract leaves an active set alone, and makes its own active with --activate', async () => {
    const cli = async (...argv: string[]): Promise<number> =>
      runCli(['extract', '--project', join(root, 'project'), '--model', 'first', '--level', '0', '--device', 'cpu', ...argv], {
        stdout: () => undefined,
        stderr: () => undefined,
        signal: new AbortController().signal,
      });
    const before = (await stored()).activeFeatureSet;
    expect(before).toBe('second-level0');
    expect(await cli()).toBe(0);
    expect((await stored()).activeFeatureSet).toBe(before);
    expect(await cli('--activate')).toBe(0);
    expect((await stored()).activeFeatureSet).toBe('first-level0');
    expect(await cli('--activate=no')).toBe(2);
  }, 60_000);
});

describe('projects made before the choice was recorded', () => {
  it('use their oldest set with features, however new another is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-feature-sets-old-'));
    try {
      const p = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 2, SPEC));
      const project = p.service.requireProject();
      await writeSyntheticFeatures(project, p.ids, SPEC, 'older');
      await new Promise((r) => setTimeout(r, 5));
      await writeSyntheticFeatures(project, [p.ids[0]], SPEC, 'newer');
      expect(JSON.parse(await readFile(project.file, 'utf8')).activeFeatureSet).toBeUndefined();
      expect(project.activeFeatureSet()?.id).toBe('older');
      const r = await p.service.similarityQuery({ imageId: p.ids[1], points: [{ x: 50, y: 50 }], k: 2 });
      expect(r.featureSet).toBe('older');
      await p.service.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('deleting a hand-edited set whose folder lies outside cache/features removes its record only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-feature-sets-edit-'));
    try {
      const p = await importedProject(dir, await writeMosaics(join(dir, 'slides'), 1, SPEC));
      const project = p.service.requireProject();
      const set = await writeSyntheticFeatures(project, p.ids, SPEC, 'edited');
      await project.update((q) => q.upsertFeatureSet({ ...set, dir: '../slides' }));
      await p.service.deleteFeatureSet('edited');
      expect(project.featureSets()).toEqual([]);
      expect((await stat(join(dir, 'slides', 'mosaic-0.png'))).isFile()).toBe(true);
      await p.service.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
