// Analysis results are each client's own (client-states.ts): two browsers on one host, through the real
// AppService on a real project (texture mosaics with synthetic features, fixture.ts), each as its own
// client (core/app/caller.ts, as the serve host runs their calls). Each one's heatmap tiles, its heatmap
// on another image, its exported matches and its clustering follow its own calls; the states are bounded.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asClient } from '../app/caller.js';
import { analysisProject } from '../app/fixture-service.js';
import type { AppService } from '../app/service.js';
import { ClientStates } from './client-states.js';
import { textureAt, writeMosaics, type MosaicSpec } from './fixture.js';

const SPEC: MosaicSpec = { side: 448, stride: 14, dim: 32 };
const GRID = SPEC.side / SPEC.stride;
const A = 'browser-a-0001';
const B = 'browser-b-0002';
let root: string;
let service: AppService;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dinoscope-clients-'));
  ({ service, ids } = await analysisProject(root, await writeMosaics(join(root, 'slides'), 3, SPEC), SPEC));
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const textureOf = (i: number, x: number, y: number): number => textureAt(i, Math.floor(x / SPEC.stride), Math.floor(y / SPEC.stride), GRID);

/** Cells drawn (alpha > 0) per texture on image i's full-resolution similarity tiles, as client c. */
async function drawnTextures(c: string, i: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for (const [tx, ty] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    const png = await asClient(c, () => service.overlayTile(ids[i], 'similarity', 9, tx, ty)); // level 9: full resolution
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    for (let py = 7; py < info.height; py += 14)
      // cell centres
      for (let px = 7; px < info.width; px += 14)
        if (data[4 * (py * info.width + px) + 3] > 0) {
          const t = textureOf(i, tx * 256 + px, ty * 256 + py);
          seen.set(t, (seen.get(t) ?? 0) + 1);
        }
  }
  return seen;
}

/** Every cell of texture t's quadrant drawn (16 × 16), and at most 3 of the other 768 (the synthetic
 * features' noise lights one now and then). */
function expectTexture(drawn: Map<number, number>, t: number): void {
  expect(drawn.get(t)).toBe(256);
  expect([...drawn].reduce((n, [u, c]) => n + (u === t ? 0 : c), 0)).toBeLessThanOrEqual(3);
}

describe('analysis state per client', () => {
  it("two clients' queries, heatmap tiles, heatmaps on other images and exported matches stay their own", async () => {
    const pa = { x: 100, y: 300 }; // image 0, bottom-left quadrant
    const pb = { x: 300, y: 100 }; // image 0, top-right quadrant
    const ta = textureOf(0, pa.x, pa.y);
    const tb = textureOf(0, pb.x, pb.y);
    expect(ta).not.toBe(tb);
    const ra = await asClient(A, () => service.similarityQuery({ imageId: ids[0], points: [pa], k: 5 }));
    const rb = await asClient(B, () => service.similarityQuery({ imageId: ids[0], points: [pb], k: 5 }));
    for (const m of ra.matches) expect(textureOf(ids.indexOf(m.imageId), m.x, m.y)).toBe(ta);
    for (const m of rb.matches) expect(textureOf(ids.indexOf(m.imageId), m.x, m.y)).toBe(tb);
    // The tile URLs name their client; the tiles drawn for each are its own query's texture only.
    expect(ra.overlay.tileUrl).toMatch(new RegExp(`\\?v=\\d+&client=${A}$`));
    expectTexture(await drawnTextures(A, 0), ta);
    expectTexture(await drawnTextures(B, 0), tb);
    // A match opened on another image: the heatmap there is of that client's query.
    await asClient(A, () => service.similarityHeatmap(ids[1]));
    await asClient(B, () => service.similarityHeatmap(ids[1]));
    expectTexture(await drawnTextures(A, 1), ta);
    expectTexture(await drawnTextures(B, 1), tb);
    // A third client (the desktop app, the CLI, a caller without an id) has no query of its own.
    await expect(service.similarityHeatmap(ids[1])).rejects.toThrow(/There is no similarity query yet/);
    expect(await drawnTextures('browser-c-0003', 0)).toEqual(new Map());
    // Exported matches are the exporting client's.
    for (const [c, r] of [
      [A, ra],
      [B, rb],
    ] as const) {
      const csv = await asClient(c, () => service.exportAnalysis({ format: 'csv', what: 'search', dir: join(root, `exports-${c}`) }));
      const rows = (await readFile(csv.paths[0], 'utf8')).trim().split('\r\n').slice(1);
      expect(rows.map((l) => l.split(',').slice(1, 3).join(','))).toEqual(r.matches.map((m) => `${Math.round(m.x)},${Math.round(m.y)}`));
    }
  });

  it("each client's cluster regions follow the k it showed", async () => {
    await asClient(A, () => service.clusterOverlay(ids[0], 4));
    await asClient(B, () => service.clusterOverlay(ids[0], 2));
    const a = await asClient(A, () => service.clusterRegions(3));
    expect(a.every((r) => r.cluster === 3)).toBe(true);
    await expect(asClient(B, () => service.clusterRegions(3))).rejects.toThrow(/clusterId must be an integer from 0 to 1/);
  });
});

describe('client states', () => {
  it('keeps at most max clients, dropping the least recently active, and drops idle ones', () => {
    let t = 0;
    const dropped: string[] = [];
    const states = new ClientStates(
      (s) => dropped.push(s.id),
      3,
      1000,
      () => t,
    );
    for (const id of ['c1', 'c2', 'c3']) states.get(id);
    states.get('c1'); // c2 is now the least recently active
    states.get('c4');
    expect(dropped).toEqual(['c2']);
    expect([...states.all()].map((s) => s.id)).toEqual(['c3', 'c1', 'c4']);
    t = 800;
    states.get('c4');
    t = 1500; // c3 and c1 idle for 1500 ms, c4 for 700
    states.get('c5');
    expect(dropped).toEqual(['c2', 'c3', 'c1']);
    expect(states.size).toBe(2);
    expect(states.peek('c1')).toBeUndefined();
  });

  it("drops a client's least recently set layers beyond its byte budget, never the newest", () => {
    const states = new ClientStates(
      () => undefined,
      4,
      1000,
      () => 0,
      100,
    );
    const s = states.get('c1');
    const layer = (bytes: number) => ({
      stride: 1,
      origin: { x: 0, y: 0 },
      gridWidth: 1,
      gridHeight: 1,
      rgba: new Uint8Array(bytes),
      legend: [],
    });
    expect(states.setLayer(s, 'pca|a', layer(40))).toEqual([]);
    expect(states.setLayer(s, 'pca|b', layer(40))).toEqual([]);
    expect(states.setLayer(s, 'pca|a', layer(40))).toEqual([]); // a is now the newest
    expect(states.setLayer(s, 'similarity|c', layer(40))).toEqual(['pca|b']);
    expect([...s.layers.keys()]).toEqual(['pca|a', 'similarity|c']);
    expect(states.setLayer(s, 'clusters|d', layer(400))).toEqual(['pca|a', 'similarity|c']);
    expect([...s.layers.keys()]).toEqual(['clusters|d']);
  });
});
