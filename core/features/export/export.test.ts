import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsCsv } from './csv.js';
import { featureCollection, maskFeature, polygonArea } from './geojson.js';
import { npyBytes, npyHeader } from './npy.js';

describe('npy', () => {
  it('header is 64-byte aligned and parses; numpy reads float16 and float32 back', async () => {
    const h = npyHeader('float16', [3, 4, 5]);
    expect(h.length % 64).toBe(0);
    expect(new TextDecoder().decode(h.subarray(10))).toMatch(/^\{'descr': '<f2', 'fortran_order': False, 'shape': \(3, 4, 5\), \}\s*\n$/);
    const data = Float32Array.from({ length: 60 }, (_, i) => i / 4 - 3);
    const py = '/usr/bin/python3';
    if (!existsSync(py)) return;
    const dir = await mkdtemp(join(tmpdir(), 'dinoscope-npy-'));
    try {
      await writeFile(join(dir, 'a.npy'), npyBytes(data, [3, 4, 5], 'float16'));
      await writeFile(join(dir, 'b.npy'), npyBytes(data, [60]));
      const out = execFileSync(py, [
        '-c',
        `import numpy as n; a=n.load('${dir}/a.npy'); b=n.load('${dir}/b.npy'); print(a.dtype, a.shape, float(a[2,3,4]), b.dtype, b.shape, float(b.sum()))`,
      ])
        .toString()
        .trim();
      expect(out).toBe(`float16 (3, 4, 5) ${data[59]} float32 (60,) ${data.reduce((s, x) => s + x, 0)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GeoJSON', () => {
  it('a mask with a hole and a separate blob: parses, QuPath layout, area equals the mask area', () => {
    const w = 10;
    const h = 8;
    const mask = new Uint8Array(w * h);
    // A 5 × 5 square ring (1..5) with a 1-cell-wide hole of 3 × 3 inside, a diagonal-touching cell, a 2 × 2 blob.
    for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) mask[y * w + x] = 1;
    for (let y = 2; y <= 4; y++) for (let x = 2; x <= 4; x++) mask[y * w + x] = 0;
    mask[3 * w + 3] = 1; // an island inside the hole
    mask[6 * w + 6] = 1; // touches the ring only diagonally
    for (let y = 1; y <= 2; y++) for (let x = 7; x <= 8; x++) mask[y * w + x] = 1;
    const cells = mask.reduce((s, v) => s + v, 0);
    const stride = 14;
    const f = maskFeature(mask, w, h, { stride, origin: { x: 100, y: 50 } }, 'Tumor', [200, 0, 0]);
    const fc = JSON.parse(JSON.stringify(featureCollection(f ? [f] : [])));
    expect(fc.type).toBe('FeatureCollection');
    const feat = fc.features[0];
    expect(feat.properties).toEqual({ objectType: 'annotation', classification: { name: 'Tumor', color: [200, 0, 0] } });
    expect(feat.geometry.type).toBe('MultiPolygon');
    const polys = feat.geometry.coordinates as [number, number][][][];
    expect(polys.length).toBe(4); // ring, island, diagonal cell, blob
    for (const p of polys) for (const r of p) expect(r[0]).toEqual(r[r.length - 1]);
    expect(polys.filter((p) => p.length === 2).length).toBe(1); // exactly one polygon has a hole
    const area = polys.reduce((s, p) => s + polygonArea(p), 0);
    expect(area).toBe(cells * stride * stride);
    const xs = polys.flat(2).map((c) => c[0]);
    expect(Math.min(...xs)).toBe(100 + 1 * stride);
    expect(maskFeature(new Uint8Array(4), 2, 2, { stride: 1, origin: { x: 0, y: 0 } }, 'x', [0, 0, 0])).toBeNull();
  });
});

describe('CSV', () => {
  it('quotes names with commas, quotes and newlines', () => {
    const csv = resultsCsv([
      { image: 'plain.svs', x: 10.4, y: 20, score: 0.91234567, rank: 1 },
      { image: 'a,"b"\nc.tif', x: 1, y: 2, score: 0.5, rank: 2 },
    ]);
    expect(csv).toBe('image,x,y,score,rank\r\nplain.svs,10,20,0.912346,1\r\n"a,""b""\nc.tif",1,2,0.500000,2\r\n');
  });
});
