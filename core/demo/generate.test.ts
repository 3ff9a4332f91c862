// The demo's sample slides: regions are known (the rendered pixels follow regionAt, every slide holds
// every texture and a background), the textures differ in colour and structure, the same spec gives the
// same bytes, and the written files are tiled pyramidal TIFFs with their µm/px. Folder rules: a non-empty
// folder that is not a demo is refused; a previous demo of the same spec resumes, another spec restarts.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../data/readers/registry.js';
import { prepareDemoFolder } from './folder.js';
import { demoRegionAt, layoutOf, renderDemoImage, TINY_SPEC, writeDemoImages, type DemoSpec } from './generate.js';
import { BACKGROUND, regionAt, regionOfWindow } from './layout.js';
import { BACKGROUND_RGB, TEXTURE_COUNT, TEXTURE_NAMES } from './textures.js';

const SPEC: DemoSpec = { ...TINY_SPEC, side: 768 };
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-demo-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean RGB and mean absolute horizontal / vertical neighbour differences of a window (structure). */
function stats(px: Uint8Array, side: number, x0: number, y0: number, s: number): number[] {
  const m = [0, 0, 0];
  let gx = 0;
  let gy = 0;
  for (let y = y0; y < y0 + s; y++)
    for (let x = x0; x < x0 + s; x++) {
      const o = 3 * (y * side + x);
      for (let c = 0; c < 3; c++) m[c] += px[o + c];
      for (let c = 0; c < 3; c++) {
        gx += Math.abs(px[o + c] - px[o + 3 + c]);
        gy += Math.abs(px[o + c] - px[o + 3 * side + c]);
      }
    }
  const n = s * s;
  return [...m.map((v) => v / n), gx / n, gy / n];
}

/** Pure windows (every pixel inside one region) of each texture on image i: their top-left corners. */
function pureWindows(i: number, s: number): Map<number, { x: number; y: number }[]> {
  const out = new Map<number, { x: number; y: number }[]>();
  const l = layoutOf(i, SPEC);
  for (let y = 0; y + s < SPEC.side; y += s)
    for (let x = 0; x + s < SPEC.side; x += s) {
      const t = regionOfWindow(l, x, y, s, 1);
      let pure = t !== null;
      for (let v = 0; pure && v <= s; v++) for (let u = 0; pure && u <= s; u++) pure = regionAt(l, x + u, y + v) === t;
      if (pure) out.set(t!, [...(out.get(t!) ?? []), { x, y }]);
    }
  return out;
}

describe('demo slides', () => {
  it('every slide holds every texture and a background area, in a different layout', () => {
    const maps = [0, 1, 2, 3].map((i) => {
      const seen = new Set<number>();
      const grid: number[] = [];
      for (let y = 8; y < SPEC.side; y += 16)
        for (let x = 8; x < SPEC.side; x += 16) {
          const t = demoRegionAt(i, SPEC, x, y);
          seen.add(t);
          grid.push(t);
        }
      expect([...seen].sort(), `slide ${i}`).toEqual([BACKGROUND, ...Array.from({ length: TEXTURE_COUNT }, (_, t) => t)]);
      // Background covers a real share (the tissue mask has something to skip), tissue most of the rest.
      const bg = grid.filter((t) => t === BACKGROUND).length / grid.length;
      expect(bg).toBeGreaterThan(0.15);
      expect(bg).toBeLessThan(0.6);
      return grid;
    });
    for (let a = 0; a < maps.length; a++)
      for (let b = a + 1; b < maps.length; b++) {
        const same = maps[a].filter((t, k) => t === maps[b][k] && t !== BACKGROUND).length;
        expect(same / maps[a].length, `slides ${a} and ${b}`).toBeLessThan(0.35);
      }
  });

  it('pixels follow the known regions: background colour outside, distinct textures inside', () => {
    const px = renderDemoImage(0, SPEC);
    const s = 32;
    const windows = pureWindows(0, s);
    // Background windows are the plain background colour (± noise) with no structure.
    for (const w of windows.get(BACKGROUND)!) {
      const [r, g, b, gx, gy] = stats(px, SPEC.side, w.x, w.y, s);
      expect(Math.abs(r - BACKGROUND_RGB[0]) + Math.abs(g - BACKGROUND_RGB[1]) + Math.abs(b - BACKGROUND_RGB[2])).toBeLessThan(6);
      expect(gx + gy).toBeLessThan(12);
    }
    // Each texture: windows of it agree with each other more than with any other texture's (nearest centroid).
    const feats = new Map<number, number[][]>();
    for (let t = 0; t < TEXTURE_COUNT; t++) {
      const list = windows.get(t) ?? [];
      expect(list.length, TEXTURE_NAMES[t]).toBeGreaterThanOrEqual(3);
      feats.set(
        t,
        list.map((w) => stats(px, SPEC.side, w.x, w.y, s)),
      );
    }
    const centroid = (v: number[][]): number[] => v[0].map((_, j) => v.reduce((a, r) => a + r[j], 0) / v.length);
    const cents = [...feats.entries()].map(([t, v]) => ({ t, c: centroid(v) }));
    const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, j) => v - b[j]));
    let right = 0;
    let all = 0;
    for (const [t, v] of feats)
      for (const f of v) {
        const best = cents.reduce((a, b) => (dist(f, a.c) <= dist(f, b.c) ? a : b));
        right += best.t === t ? 1 : 0;
        all++;
      }
    expect(right / all).toBeGreaterThan(0.95);
    // And the centroids are far apart: every pair differs by > 15 (colour levels or gradient energy).
    for (let a = 0; a < cents.length; a++)
      for (let b = a + 1; b < cents.length; b++)
        expect(dist(cents[a].c, cents[b].c), `${TEXTURE_NAMES[cents[a].t]} vs ${TEXTURE_NAMES[cents[b].t]}`).toBeGreaterThan(15);
  });

  it('is deterministic: the same spec renders the same bytes, another seed other bytes', () => {
    const small: DemoSpec = { ...SPEC, side: 384 };
    const a = renderDemoImage(1, small);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(renderDemoImage(1, small)))).toBe(0);
    const other = renderDemoImage(1, { ...small, seed: small.seed + 1 });
    let differ = 0;
    for (let k = 0; k < a.length; k++) differ += a[k] !== other[k] ? 1 : 0;
    expect(differ / a.length).toBeGreaterThan(0.3);
  });

  it('writes tiled pyramidal TIFFs with their µm/px that read back as rendered (JPEG tolerance)', async () => {
    const spec: DemoSpec = { ...SPEC, images: 2 };
    const paths = await writeDemoImages(join(dir, 'w'), spec);
    expect(paths.map((p) => p.replace(/^.*\//, ''))).toEqual(['demo-slide-1.tif', 'demo-slide-2.tif']);
    const reader = await openImage(paths[1]);
    try {
      const m = reader.meta;
      expect([m.width, m.height]).toEqual([spec.side, spec.side]);
      expect(m.levels.length).toBeGreaterThanOrEqual(2);
      expect(m.tileWidth).toBe(256);
      expect(m.mpp).toBeCloseTo(spec.mpp, 3);
      const region = await reader.readRegion(0, 256, 256, 64, 64);
      const want = renderDemoImage(1, spec);
      let err = 0;
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 64; x++)
          for (let c = 0; c < 3; c++) err += Math.abs(region.data[(y * 64 + x) * 3 + c] - want[((256 + y) * spec.side + 256 + x) * 3 + c]);
      expect(err / (64 * 64 * 3)).toBeLessThan(12);
    } finally {
      await reader.close();
    }
  });
});

describe('demo slides, cancelled', () => {
  it('stop within the slide being painted and leave no file behind', async () => {
    const c = new AbortController();
    const writing = writeDemoImages(join(dir, 'c'), { ...SPEC, side: 1024 }, { signal: c.signal });
    setImmediate(() => c.abort());
    await expect(writing).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(join(dir, 'c'))).toEqual([]);
  });
});

describe('demo folder', () => {
  it('refuses a non-empty folder that is not a demo, resumes the same spec, restarts another', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(prepareDemoFolder(other, SPEC)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/other is not empty and is not a previous Dinoscope demo/),
    });
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');

    const d = join(dir, 'demo');
    expect(await prepareDemoFolder(d, SPEC)).toBe('new');
    writeFileSync(join(d, 'slides', 'demo-slide-1.tif'), 'x');
    expect(await prepareDemoFolder(d, SPEC)).toBe('resume');
    expect(existsSync(join(d, 'slides', 'demo-slide-1.tif'))).toBe(true);
    expect(await prepareDemoFolder(d, { ...SPEC, side: 1024 })).toBe('restart');
    expect(existsSync(join(d, 'slides', 'demo-slide-1.tif'))).toBe(false);
    expect(JSON.parse(readFileSync(join(d, 'demo.json'), 'utf8')).spec.side).toBe(1024);
  });
});
