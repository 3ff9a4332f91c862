// A pixel size stated by the user for images whose files state none, on real generated files: two pyramidal
// TIFFs without a resolution tag and one stating 0.25 µm/px, and a PNG. `dinoscope import --mpp` states it
// for the added images without one (the TIFF with its own keeps it); `dinoscope images set-mpp` and the
// API's setImageMpp (through dispatch, the path every transport takes) change it, persist it in
// project.json, and refuse a file's own size, an unknown image and a bad value (exit 2). A stated size
// moves extraction to the level it implies (not the level-0 fallback), and a run over a mixed collection
// says per image which size it used and which image fell back to a level.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { dispatch } from '../../app/dispatch.js';
import type { ExtractSummary, ProjectSummary, SetImageMppResult } from '../../common/api.js';
import { writePyramidalTiff } from '../../data/fixtures/pyramidal-tiff.js';
import { texture } from '../../features/extract/fixture.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { runCli } from '../main.js';
import type { ImageMppRow } from './images.js';

let root: string;
let proj: string;
let bare: string; // pyramidal TIFF, no resolution: gets --mpp 0.5 at import
let later: string; // pyramidal TIFF, no resolution: imported without --mpp, stated through the API
let scan: string; // pyramidal TIFF stating 0.25 µm/px
let png: string; // no resolution, never stated

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: new AbortController().signal });
  return { code, out, err };
}

const rows = (out: string): Map<string, ImageMppRow> => new Map((JSON.parse(out) as ImageMppRow[]).map((r) => [r.name, r]));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-stated-mpp-'));
  process.env.DINOSCOPE_HOME = join(root, 'home');
  proj = join(root, 'project');
  bare = join(root, 'bare.tif');
  later = join(root, 'later.tif');
  scan = join(root, 'scan.tif');
  png = join(root, 'export.png');
  // 1792 px, tiles 256: levels at downsample 1, 2, 4 (and 8).
  await writePyramidalTiff(bare, { width: 1792, height: 1792, tile: 256, compression: 'deflate' });
  await writePyramidalTiff(later, { width: 1792, height: 1792, tile: 256, compression: 'deflate' });
  await writePyramidalTiff(scan, { width: 896, height: 896, tile: 256, compression: 'deflate', pixelsPerMm: 4000 });
  await sharp(texture(448, 448), { raw: { width: 448, height: 448, channels: 3 } })
    .png()
    .toFile(png);
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(proj), 'tiny'), cfg, tensors, 'hf');
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a stated pixel size', () => {
  it('is set by import --mpp for the added images whose files state none, and listed with where it comes from', async () => {
    const r = await cli(['import', proj, bare, scan, '--mpp', '0.5']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('stated 0.5 µm/px for 1 image whose file states none; 1 states their own and keeps it');
    const report = JSON.parse(r.out) as { added: { name: string; statedMpp?: number; meta?: { mpp: number | null } }[] };
    const byName = new Map(report.added.map((e) => [e.name, e]));
    expect(byName.get('bare.tif')).toMatchObject({ statedMpp: 0.5, meta: { mpp: 0.5 } });
    expect(byName.get('scan.tif')!.statedMpp).toBeUndefined();
    expect(byName.get('scan.tif')!.meta!.mpp).toBeCloseTo(0.25, 6);

    expect((await cli(['import', proj, later, png])).code).toBe(0);
    const list = await cli(['images', '--project', proj]);
    expect(list.code, list.err).toBe(0);
    const got = rows(list.out);
    expect(got.get('bare.tif')).toMatchObject({ mpp: 0.5, mppSource: 'stated' });
    expect(got.get('scan.tif')).toMatchObject({ mppSource: 'file' });
    expect(got.get('later.tif')).toMatchObject({ mpp: null, mppSource: null });
    expect(got.get('export.png')).toMatchObject({ mpp: null, mppSource: null });
    expect(list.err).toContain('2 readable images have no pixel size');
    // Stored in project.json beside the file's own metadata, which keeps saying what the file states.
    const stored = JSON.parse(await readFile(join(proj, 'project.json'), 'utf8')) as {
      images: { name: string; statedMpp?: number; meta: { mpp: number | null } }[];
    };
    expect(stored.images.find((i) => i.name === 'bare.tif')).toMatchObject({ statedMpp: 0.5, meta: { mpp: null } });
  }, 120_000);

  it('is changed and cleared by images set-mpp, which refuses bad input with exit 2', async () => {
    const set = await cli(['images', 'set-mpp', '--project', proj, '--image', 'bare.tif', '--mpp', '0.8']);
    expect(set.code, set.err).toBe(0);
    expect(rows(set.out).get('bare.tif')).toMatchObject({ mpp: 0.8, mppSource: 'stated' });
    const cleared = await cli(['images', 'set-mpp', '--project', proj, '--image', 'bare.tif', '--mpp', 'none']);
    expect(cleared.code, cleared.err).toBe(0);
    expect(rows(cleared.out).get('bare.tif')).toMatchObject({ mpp: null, mppSource: null });
    expect((await cli(['images', 'set-mpp', '--project', proj, '--image', 'bare.tif', '--mpp', '0.5'])).code).toBe(0);

    const own = await cli(['images', 'set-mpp', '--project', proj, '--image', 'scan.tif', '--mpp', '1']);
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/scan\.tif: the file states its own pixel size \(0\.25\d* µm\/px\), which Dinoscope keeps/);
    const unknown = await cli(['images', 'set-mpp', '--project', proj, '--image', 'nope.tif', '--mpp', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no image "nope.tif"');
    for (const bad of ['0', '-1', 'abc']) {
      const r = await cli(['images', 'set-mpp', '--project', proj, '--image', 'bare.tif', '--mpp', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain('--mpp must be a positive number of µm per pixel or none');
    }
    const huge = await cli(['images', 'set-mpp', '--project', proj, '--image', 'bare.tif', '--mpp', '1e9']);
    expect(huge.code).toBe(2);
    expect(huge.err).toContain('--mpp');
    const neither = await cli(['images', 'set-mpp', '--project', proj, '--mpp', '1']);
    expect(neither.code).toBe(2);
    expect(neither.err).toContain('either --image');
    expect((await cli(['import', proj, png, '--mpp', 'x'])).code).toBe(2);
    // Nothing above changed what was stated.
    expect(rows((await cli(['images', '--project', proj])).out).get('bare.tif')).toMatchObject({ mpp: 0.5, mppSource: 'stated' });
  }, 120_000);

  it('round-trips through the API contract (dispatch), persisted for the next session', async () => {
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
    try {
      const summary = (await dispatch(service, 'openProject', [proj])) as ProjectSummary;
      const laterId = summary.images.find((i) => i.name === 'later.tif')!.id;
      const r = (await dispatch(service, 'setImageMpp', [{ mpp: 0.5, imageIds: [laterId] }])) as SetImageMppResult;
      expect(r.changed).toEqual([laterId]);
      expect(r.project.images.find((i) => i.id === laterId)).toMatchObject({ statedMpp: 0.5, meta: { mpp: 0.5 } });
      const tile = await service.tileSource(laterId); // the viewer's scale bar
      expect(tile.mpp).toBe(0.5);
      await expect(dispatch(service, 'setImageMpp', [{ mpp: -2 }])).rejects.toThrow(/mpp: must be a number from 0\.0001 to 10000/);
      await expect(dispatch(service, 'setImageMpp', [{ mpp: 1, imageIds: [] }])).rejects.toThrow(/imageIds: must hold at least 1 item/);
    } finally {
      await service.close();
    }
    const again = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
    try {
      const s = await again.openProject(proj);
      expect(s.images.find((i) => i.name === 'later.tif')).toMatchObject({ statedMpp: 0.5 });
      // "State one for all": with no ids, every image still without a pixel size (the PNG) gets it.
      const all = await again.setImageMpp({ mpp: 0.25 });
      expect(all.changed.map((id) => all.project.images.find((i) => i.id === id)!.name)).toEqual(['export.png']);
      await again.setImageMpp({ mpp: null, imageIds: all.changed });
    } finally {
      await again.close();
    }
  }, 120_000);

  it('moves extraction to the level it implies, and a mixed run says how it treated each image', async () => {
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: root });
    try {
      const s = await service.openProject(proj);
      const laterId = s.images.find((i) => i.name === 'later.tif')!.id;
      // At 2 µm/px: bare.tif and later.tif (stated 0.5) are read at downsample 4 (level 2): 1792 / 4 / 14 = 32
      // patches a side; without the statement later.tif falls back to level 0 (1792 / 14 = 128).
      const stated = await service.extractEstimate({ modelId: 'tiny', mpp: 2, device: 'cpu' });
      await service.setImageMpp({ mpp: null, imageIds: [laterId] });
      const unstated = await service.extractEstimate({ modelId: 'tiny', mpp: 2, device: 'cpu' });
      const grid = (e: typeof stated, name: string): unknown[] => {
        const g = e.grids.find((x) => x.name === name)!;
        return [g.gridWidth, g.fallbackLevel];
      };
      expect(grid(stated, 'later.tif')).toEqual([32, undefined]);
      expect(grid(unstated, 'later.tif')).toEqual([128, 0]);
      expect(grid(stated, 'bare.tif')).toEqual([32, undefined]);
      await service.setImageMpp({ mpp: 0.5, imageIds: [laterId] });
    } finally {
      await service.close();
    }
    // A real extraction over the mixed collection: file, stated, and neither.
    const r = await cli(['extract', '--project', proj, '--model', 'tiny', '--mpp', '2', '--device', 'cpu', '--context', 'whole']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as ExtractSummary;
    const byName = new Map(summary.images.map((i) => [i.name, i]));
    expect(byName.get('bare.tif')).toMatchObject({ gridWidth: 32 });
    expect(byName.get('later.tif')).toMatchObject({ gridWidth: 32 });
    expect(byName.get('later.tif')!.fallbackLevel).toBeUndefined();
    expect(byName.get('export.png')).toMatchObject({ gridWidth: 32, fallbackLevel: 0 });
    expect(r.err).toContain(
      `${bare}: uses the pixel size stated for it, 0.5 µm/px (the file states none); extracted at 2 µm/px from level 2.`,
    );
    expect(r.err).toContain(
      `${later}: uses the pixel size stated for it, 0.5 µm/px (the file states none); extracted at 2 µm/px from level 2.`,
    );
    expect(r.err).toMatch(
      new RegExp(`${scan.replace(/[.]/g, '\\.')}: 0\\.25\\d* µm/px stated in the file; extracted at 2 µm/px from level \\d\\.`),
    );
    expect(r.err).toContain(`${png}: the file states no resolution (mpp); extracted at level 0 (its own pixels) instead of 2 µm/px.`);
    expect(r.err).toContain(
      '1 image without a pixel size was extracted at a pyramid level, not at 2 µm/px: state the size (dinoscope images set-mpp',
    );
    expect(summary.warnings.filter((w) => w.includes('no resolution'))).toHaveLength(1);
  }, 300_000);
});
