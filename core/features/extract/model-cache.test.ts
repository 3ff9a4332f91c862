// TileModelCache: one compiled session per input shape, reused for equal sizes, least recently used released.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../model/params.js';
import { tinyViT } from './fixture.js';
import { TileModelCache } from './model-cache.js';

describe('TileModelCache', () => {
  it('compiles equal sizes once, keeps at most its capacity, and each model takes its own rectangle', async () => {
    const cfg = tinyViT(1);
    const cache = new TileModelCache(cfg, initParams(cfg, 1), 2);
    const shape = (h: number, w: number): Parameters<TileModelCache['get']>[0] => ({
      batch: 1,
      height: h * 14,
      width: w * 14,
      outputs: ['patches'],
      threads: 1,
    });
    const a = await cache.get(shape(4, 6));
    expect(await cache.get(shape(4, 6))).toBe(a);
    expect(cache.compiled).toBe(1);
    const b = await cache.get(shape(5, 3));
    const out = await b.run(new Float32Array(3 * 5 * 14 * 3 * 14)); // (1, 3, 70, 42)
    expect(out.patches.length).toBe(5 * 3 * cfg.dim); // (1, 15, D)
    await cache.get(shape(2, 2)); // evicts (4, 6), the least recently used
    expect(cache.compiled).toBe(3);
    expect(await cache.get(shape(5, 3))).toBe(b);
    expect(await cache.get(shape(4, 6))).not.toBe(a);
    expect(cache.compiled).toBe(4);
    await cache.release();
  });

  it('gives every session its providers and fallback warning (the one-pass path on a GPU)', async () => {
    // dml (DirectML, Windows only) is not in this onnxruntime build: it fails to open without any native
    // library printing to stderr, as an unavailable webgpu would, and the session falls back to cpu.
    const cfg = tinyViT(1);
    const warnings: string[] = [];
    const cache = new TileModelCache(cfg, initParams(cfg, 1), 2, { providers: ['dml'], warn: (m) => warnings.push(m) });
    const m = await cache.get({ batch: 1, height: 28, width: 42, outputs: ['patches'], threads: 1 });
    expect(m.provider).toBe('cpu');
    expect(m.options.providers).toEqual(['dml']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^execution provider fallback: dml unavailable \(.+\); running on cpu$/);
    await cache.release();
  });
});
