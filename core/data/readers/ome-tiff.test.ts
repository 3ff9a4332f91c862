// OME-TIFF fixtures (our TIFF writer): levels as SubIFDs or as IFDs, mpp from PhysicalSizeX with units.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRgb } from '../fixtures/compare.js';
import { patternLevel } from '../fixtures/levels.js';
import { writeOmeTiff } from '../fixtures/ome-tiff.js';
import { patternRgb } from '../fixtures/pattern.js';
import { parseOme } from './ome-tiff.js';
import { openImage } from './registry.js';

let dir: string;
const W = 1500;
const H = 1100;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dinoscope-ome-'));
  await writeOmeTiff(join(dir, 'sub.ome.tif'), { width: W, height: H, subifds: true, physicalSize: 0.325, magnification: 20 });
  await writeOmeTiff(join(dir, 'chain.ome.tif'), { width: W, height: H, subifds: false, physicalSize: 500, unit: 'nm', bigtiff: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OME-TIFF', () => {
  it.each([
    ['sub.ome.tif', 0.325],
    ['chain.ome.tif', 0.5],
  ])('%s: levels, mpp and exact deflate pixels at every level', async (name, mpp) => {
    const r = await openImage(join(dir, name));
    expect(r.meta.format).toBe('ome-tiff');
    expect(r.meta.mpp).toBeCloseTo(mpp, 9);
    expect(r.meta.levels.map((l) => [l.width, l.height])).toEqual([
      [1500, 1100],
      [750, 550],
      [375, 275],
    ]);
    const reg = await r.readRegion(0, 200, 100, 700, 600);
    expect(diffRgb(reg.data, patternRgb(200, 100, 700, 600), 700).first).toBeNull();
    for (const k of [1, 2]) {
      const { width, height } = r.meta.levels[k];
      const ref = await patternLevel(W, H, width, height);
      const got = await r.readRegion(k, 0, 0, width, height);
      expect(diffRgb(got.data, ref.data, width).first).toBeNull();
    }
    if (name === 'sub.ome.tif') expect(r.meta.vendor['ome.Objective.NominalMagnification']).toBe('20');
    await r.close();
  });

  it('converts PhysicalSize units to micrometres', () => {
    const xml = (size: string, unit?: string): string =>
      `<OME><Image ID="Image:0"><Pixels SizeX="1" PhysicalSizeX="${size}"${unit ? ` PhysicalSizeXUnit="${unit}"` : ''}/></Image></OME>`;
    expect(parseOme(xml('0.25')).mpp).toBeCloseTo(0.25, 12);
    expect(parseOme(xml('250', 'nm')).mpp).toBeCloseTo(0.25, 12);
    expect(parseOme(xml('0.00025', 'mm')).mpp).toBeCloseTo(0.25, 12);
    expect(parseOme(xml('0.25', 'furlong')).mpp).toBeNull();
  });
});
