// The run-wide context through extractFeatures on a real project (a PNG of 36 × 27 patches and a TIFF of
// 48 × 40, a random tiny ViT with LayerScale 1 in the project's models folder): 'auto' extracts each image
// in one pass when both fit and its stores equal an independent whole-image forward pass to 1e-3; with a
// small attention cap the TIFF does not fit, so 'auto' tiles both (within the measured tiled bound) and
// 'whole' refuses naming the TIFF and its grid; the context is recorded in the manifests and project.json.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedProject } from '../../app/fixture-service.js';
import type { AppService } from '../../app/service.js';
import { openImage } from '../../data/readers/registry.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { openFeatureStore } from '../store/reader.js';
import { relativeRms, texture, tinyViT, wholePass, worstError } from './fixture.js';
import { extractFeatures, type ExtractHooks } from './project.js';

const cfg = tinyViT(1);
const weights = initParams(cfg, 21);
const images = [
  { file: 'wide.png', gw: 36, gh: 27, chunks: 3 * 2 },
  { file: 'big.tif', gw: 48, gh: 40, chunks: 3 * 3 },
];
const CAP = 32 * 2 ** 20; // between the PNG's 15 MiB and the TIFF's 57 MiB of one-pass attention
let dir: string;
let service: AppService;
let ids: string[];
const references: Float32Array[] = []; // (gh, gw, D) per image: one independent whole-image pass

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-extract-context-'));
  const paths: string[] = [];
  for (const [i, im] of images.entries()) {
    const [w, h] = [im.gw * 14, im.gh * 14];
    const img = sharp(texture(w, h, 31 + i), { raw: { width: w, height: h, channels: 3 } });
    const path = join(dir, im.file);
    await writeFile(path, await (im.file.endsWith('.tif') ? img.tiff() : img.png()).toBuffer());
    paths.push(path);
    const reader = await openImage(path);
    references.push(await wholePass(cfg, weights, reader, im.gw, im.gh));
    await reader.close();
  }
  ({ service, ids } = await importedProject(dir, paths));
  const tensors = new Map<string, WeightTensor>(
    Object.entries(weights).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(join(dir, 'project')), 'ls1'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (context: 'auto' | 'whole' | 'tiled', hooks: ExtractHooks = {}): ReturnType<typeof extractFeatures> =>
  extractFeatures(service.requireProject(), service.models, { modelId: 'ls1', level: 0, context }, { threads: 1, ...hooks });

/** The image's stored grid (gh, gw, D) and its manifest. */
async function stored(dirOfSet: string, i: number): Promise<{ grid: Float32Array; context: string | undefined; tiling: unknown }> {
  const store = await openFeatureStore(join(dirOfSet, `${ids[i]}.zarr`));
  return { grid: await store.readRect(0, 0, images[i].gw, images[i].gh), context: store.manifest.context, tiling: store.manifest.tiling };
}

describe('extraction context over a run', () => {
  it("auto: one pass per image when every image fits; each store equals a whole-image forward pass to 1e-3; recorded as 'whole'", async () => {
    const messages: string[] = [];
    const s = await run('auto', { progress: (_d, _t, m) => messages.push(m) });
    expect(s.context).toBe('whole');
    for (const [i, im] of images.entries()) {
      expect(s.images[i]).toMatchObject({
        imageId: ids[i],
        context: 'whole',
        computed: im.chunks,
        background: 0,
        resumed: 0,
        patches: im.gw * im.gh,
      });
      const got = await stored(s.dir, i);
      expect(got.context).toBe('whole');
      const err = worstError(got.grid, references[i]);
      process.stderr.write(
        `${im.file} (${im.gw} × ${im.gh}): one pass through extractFeatures vs whole forward pass, worst error ${err.toExponential(2)}\n`,
      );
      expect(err).toBeLessThan(1e-3);
    }
    expect(messages.some((m) => /wide\.png: one pass, 6\/6 chunks/.test(m))).toBe(true);
    const pj = JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as {
      features: { context: string; images: { context: string }[] }[];
    };
    expect(pj.features[0].context).toBe('whole');
    expect(pj.features[0].images.map((e) => e.context)).toEqual(['whole', 'whole']);
  }, 60_000);

  it("auto tiles every image when one does not fit the cap (the stores restart, within the tiled bound); 'whole' refuses naming it; 'tiled' resumes", async () => {
    const lines: string[] = [];
    const s = await run('auto', { onePass: { maxBytes: CAP }, log: (l) => lines.push(l) });
    expect(s.context).toBe('tiled');
    expect(lines.join('\n')).toMatch(
      /context: tiles with context margins for every image: .*big\.tif: one pass over its 48 × 40 patch grid needs 57 MiB of attention memory \(cap 32 MiB\)/,
    );
    for (const [i, im] of images.entries()) {
      expect(s.images[i]).toMatchObject({ context: 'tiled', resumed: 0 });
      expect(s.images[i].computed + s.images[i].background).toBe(im.chunks);
      const got = await stored(s.dir, i);
      expect(got).toMatchObject({ context: 'tiled', tiling: { core: 16, margin: 2 } });
      const rms = relativeRms(got.grid, references[i]);
      process.stderr.write(`${im.file}: tiled (16 + 2·2) vs whole forward pass, relative RMS ${rms.toExponential(2)}\n`);
      expect(rms).toBeLessThan(0.08);
    }

    await expect(run('whole', { onePass: { maxBytes: CAP } })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(
        /big\.tif: cannot extract with whole-image context: one pass over its 48 × 40 patch grid needs 57 MiB/,
      ),
    });
    expect((await stored(s.dir, 0)).context).toBe('tiled'); // refused before anything was written

    const again = await run('tiled');
    expect(again.images.map((e) => e.resumed)).toEqual(images.map((im) => im.chunks));
    const pj = JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as { features: { context: string }[] };
    expect(pj.features[0].context).toBe('tiled');
  }, 60_000);

  it('two runs adding different images to one set at once both land in project.json', async () => {
    await rm(join(dir, 'project', 'cache', 'features'), { recursive: true, force: true });
    await service.requireProject().update((p) => {
      for (const f of p.featureSets()) p.upsertFeatureSet({ ...f, images: [] });
    });
    const one = (i: number): ReturnType<typeof extractFeatures> =>
      extractFeatures(
        service.requireProject(),
        service.models,
        { modelId: 'ls1', level: 0, context: 'tiled', imageIds: [ids[i]] },
        { threads: 1 },
      );
    await Promise.all([one(0), one(1)]);
    const pj = JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as {
      features: { images: { imageId: string; complete: boolean }[] }[];
    };
    expect(pj.features[0].images.map((e) => e.imageId).sort()).toEqual([...ids].sort());
    expect(pj.features[0].images.every((e) => e.complete)).toBe(true);
  }, 60_000);

  it('auto on part of a tiled set keeps the set tiled (the PNG would fit one pass, but the TIFF left alone is tiled)', async () => {
    const lines: string[] = [];
    const s = await extractFeatures(
      service.requireProject(),
      service.models,
      { modelId: 'ls1', level: 0, context: 'auto', imageIds: [ids[0]] },
      { threads: 1, log: (l) => lines.push(l) },
    );
    expect(s.context).toBe('tiled');
    expect(lines.join('\n')).toMatch(/context: tiles with context margins, as for the feature set's earlier images/);
    expect(s.images[0]).toMatchObject({ imageId: ids[0], context: 'tiled', resumed: images[0].chunks });
    const pj = JSON.parse(await readFile(join(dir, 'project', 'project.json'), 'utf8')) as { features: { context: string }[] };
    expect(pj.features[0].context).toBe('tiled');
  }, 60_000);
});
