// The foreground mask setting through the CLI and the API, on generated images in a real project with a
// tiny model: a brightfield slide (a stained band, glass, then a pale band on its own that the mask drops,
// glass)
// and a fluorescence-like one (bright textured discs on black). 'auto' picks brightfield and
// fluorescence respectively and keeps their structure, each image's foreground share is in the summary
// and, when under half, on stderr with a hint; '--mask off' indexes every patch, so a similarity search
// finds matches in the pale band the auto mask leaves out; a bad --mask value exits 2.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtractSummary } from '../../common/api.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { runCli } from '../../cli/main.js';
import { vitConfig } from '../../model/config.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { ExactIndex } from '../index/exact.js';
import { openFeatureStore } from '../store/reader.js';
import { texture } from './fixture.js';

const P = 14;
const BF = { w: P * 32, h: P * 16 }; // bands of 8 patch columns: stained, glass, pale, glass
const FL = { w: P * 16, h: P * 16 };
const DISCS = [
  [60, 60, 40],
  [160, 150, 45],
] as const; // x, y, radius (px)
let dir: string;
let proj: string;
let bfId: string;
let flId: string;

/** Stained texture in x < 112, faint grey texture in 224 ≤ x < 336 (hardly darker than glass), white glass elsewhere.
 * The pale band does not touch the stained one: faint tissue connected to stained tissue is kept (mask-regions.ts). */
function brightfield(): Uint8Array {
  const rgb = new Uint8Array(BF.w * BF.h * 3).fill(255);
  for (let y = 0; y < BF.h; y++)
    for (let x = 0; x < 3 * 8 * P; x++) {
      if (x >= 8 * P && x < 16 * P) continue; // glass between the bands
      const o = 3 * (y * BF.w + x);
      const stained = x < 8 * P;
      rgb[o] = stained ? 150 + Math.round(50 * Math.sin(x / 7)) : 228 + Math.round(10 * Math.sin(x / 5));
      rgb[o + 1] = stained ? 60 + Math.round(40 * Math.cos(y / 5)) : 226 + Math.round(10 * Math.cos(y / 4));
      rgb[o + 2] = stained ? 160 : 230;
    }
  return rgb;
}

/** Black with bright textured discs. */
function fluorescence(): Uint8Array {
  const tex = texture(FL.w, FL.h, 4242);
  const rgb = new Uint8Array(FL.w * FL.h * 3);
  for (let y = 0; y < FL.h; y++)
    for (let x = 0; x < FL.w; x++)
      if (DISCS.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 < r * r))
        for (let c = 0; c < 3; c++) rgb[3 * (y * FL.w + x) + c] = Math.max(90, tex[3 * (y * FL.w + x) + c]);
  return rgb;
}

async function cli(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const code = await runCli(['extract', '--project', proj, '--model', 'tiny', '--level', '0', '--context', 'whole', ...argv], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    signal: new AbortController().signal,
  });
  return { code, err, out };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-foreground-mask-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  proj = join(dir, 'proj');
  const bf = join(dir, 'brightfield.png');
  const fl = join(dir, 'fluorescence.png');
  await writeFile(
    bf,
    await sharp(brightfield(), { raw: { width: BF.w, height: BF.h, channels: 3 } })
      .png()
      .toBuffer(),
  );
  await writeFile(
    fl,
    await sharp(fluorescence(), { raw: { width: FL.w, height: FL.h, channels: 3 } })
      .png()
      .toBuffer(),
  );
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  await service.createProject(proj);
  const report = await service.importPaths([bf, fl]);
  await service.idle();
  await service.close();
  bfId = report.added.find((a) => a.path.endsWith('brightfield.png'))!.id;
  flId = report.added.find((a) => a.path.endsWith('fluorescence.png'))!.id;
  const cfg = vitConfig('tiny', { arch: 'dinov2', dim: 64, depth: 2, heads: 2, registers: 4 });
  const tensors = new Map<string, WeightTensor>(
    Object.entries(initParams(cfg, 3)).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]),
  );
  await exportWeights(join(projectModelsDir(proj), 'tiny'), cfg, tensors, 'hf');
}, 60_000);

afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('foreground mask setting', () => {
  let auto: ExtractSummary;
  let off: ExtractSummary;

  it('auto picks brightfield and fluorescence per image, keeps their structure and reports each share', async () => {
    const r = await cli();
    expect(r.code).toBe(0);
    auto = JSON.parse(r.out) as ExtractSummary;
    expect(auto.mask).toBe('auto');
    const bf = auto.images.find((i) => i.imageId === bfId)!;
    const fl = auto.images.find((i) => i.imageId === flId)!;
    expect(bf.mask).toBe('brightfield');
    expect(fl.mask).toBe('fluorescence');
    // Brightfield: the stained band (a quarter of the patches) is foreground, the pale band and glass not.
    const bfMask = (await openFeatureStore(join(auto.dir, `${bfId}.zarr`))).mask();
    const m = (await bfMask)!;
    expect(m[8 * 32 + 3]).toBe(1); // stained
    expect(m[8 * 32 + 12]).toBe(0); // glass
    expect(m[8 * 32 + 20]).toBe(0); // pale
    expect(m[8 * 32 + 28]).toBe(0); // glass
    expect(bf.foregroundShare).toBeGreaterThan(0.2);
    expect(bf.foregroundShare).toBeLessThan(0.32);
    expect(bf.indexedRows).toBe(m.reduce((s, v) => s + v, 0));
    expect(bf.foregroundShare).toBeCloseTo(bf.indexedRows / (32 * 16), 9);
    // Fluorescence: the discs (≈ 23 % of the image) are foreground, the black between them not.
    const f = (await (await openFeatureStore(join(auto.dir, `${flId}.zarr`))).mask())!;
    expect(f[4 * 16 + 4]).toBe(1); // centre of the first disc
    expect(f[Math.floor(150 / P) * 16 + Math.floor(160 / P)]).toBe(1); // centre of the second
    expect(f[0]).toBe(0);
    expect(f[15 * 16 + 0]).toBe(0);
    expect(fl.foregroundShare).toBeGreaterThan(0.12);
    expect(fl.foregroundShare).toBeLessThan(0.4);
    // Both are under half: stderr says so, with the share and the way out.
    expect(r.err).toContain('brightfield.png: foreground mask auto: brightfield.');
    expect(r.err).toContain('fluorescence.png: foreground mask auto: fluorescence.');
    expect(r.err).toMatch(
      new RegExp(`brightfield\\.png: the brightfield mask keeps ${Math.round(100 * bf.foregroundShare)} % of its patches.*--mask off`),
    );
    expect(r.err).toMatch(/fluorescence\.png: the fluorescence mask keeps \d+ % of its patches.*--mask off/);
  }, 180_000);

  it('--mask off indexes every patch in a set of its own', async () => {
    const r = await cli('--mask', 'off');
    expect(r.code).toBe(0);
    off = JSON.parse(r.out) as ExtractSummary;
    expect(off.mask).toBe('off');
    expect(off.featureSet).toBe(`${auto.featureSet}-mask-off`);
    for (const im of off.images) {
      expect(im.mask).toBe('off');
      expect(im.foregroundShare).toBe(1);
      expect(im.indexedRows).toBe(im.gridWidth * im.gridHeight);
    }
    expect((await ExactIndex.open(join(off.dir, 'index'))).size).toBe(32 * 16 + 16 * 16);
    expect(r.err).not.toMatch(/% of its patches/);
  }, 180_000);

  it('a search over the mask-off set finds matches in the band the auto mask drops', async () => {
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
    try {
      await service.openProject(proj);
      const query = { imageId: bfId, points: [{ x: 20 * P + 7, y: 8 * P + 7 }], k: 50 }; // a pale patch
      const inPale = (x: number, imageId: string): boolean => imageId === bfId && x >= 16 * P && x < 24 * P;
      const withOff = await service.similarityQuery({ ...query, featureSet: off.featureSet });
      expect(withOff.matches.some((mt) => inPale(mt.x, mt.imageId))).toBe(true);
      const withAuto = await service.similarityQuery({ ...query, featureSet: auto.featureSet });
      expect(withAuto.matches.some((mt) => inPale(mt.x, mt.imageId))).toBe(false);
    } finally {
      await service.close();
    }
  }, 120_000);

  it('a bad --mask value exits 2 with one line', async () => {
    const r = await cli('--mask', 'tissue');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--mask must be auto, off, brightfield or fluorescence, got "tissue"/);
  });
});
