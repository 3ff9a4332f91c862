// TileModelCache: one compiled session per input shape, reused for equal sizes, least recently used released;
// on the CPU provider one any-size session for one-pass extraction.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../model/params.js';
import { tinyViT } from './fixture.js';
import { TileModel } from './model.js';
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
  it("on the CPU, one-pass sizes share one session, whose features equal each size's own model", async () => {
    const cfg = { ...tinyViT(1), layerScale: { enabled: true, init: 1 } };
    const weights = initParams(cfg, 1);
    const cache = new TileModelCache(cfg, weights, 2);
    const sizes = [
      [4, 6],
      [5, 3],
      [2, 2],
      [4, 6],
    ];
    for (const [h, w] of sizes) {
      const m = await cache.get({ batch: 1, height: h * 14, width: w * 14, outputs: ['patches'], threads: 1, anySize: true });
      const images = Float32Array.from({ length: 3 * h * 14 * w * 14 }, (_, i) => Math.sin(i * 0.11 + h));
      const got = (await m.run(images)).patches;
      await m.release(); // a view: the shared session stays open
      const own = await TileModel.create(cfg, weights, { batch: 1, height: h * 14, width: w * 14, outputs: ['patches'], threads: 1 });
      const want = (await own.run(images)).patches;
      await own.release();
      expect(got.length).toBe(h * w * cfg.dim);
      let diff = 0;
      for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - want[i]));
      expect(diff, `${h} × ${w}`).toBeLessThan(1e-5);
    }
    expect(cache.compiled).toBe(1);
    await cache.release();
  });

  it('runs a partial batch at its own size on the CPU, with the features of those images alone', async () => {
    const cfg = { ...tinyViT(1), layerScale: { enabled: true, init: 1 } };
    const weights = initParams(cfg, 1);
    const S = 4 * 14;
    const per = 3 * S * S;
    const images = Float32Array.from({ length: 4 * per }, (_, i) => Math.sin(i * 0.013)); // a batch of 4, 3 of them real
    const one = await TileModel.create(cfg, weights, { batch: 1, side: S, outputs: ['patches', 'cls'], threads: 1 });
    const want = await Promise.all([0, 1, 2].map((b) => one.run(images.slice(b * per, (b + 1) * per))));
    await one.release();
    const cpu = await TileModel.create(cfg, weights, { batch: 4, side: S, outputs: ['patches', 'cls'], threads: 1 });
    // dml is not in this build: the session falls back to the CPU but keeps the static batch a GPU would have.
    const gpu = await TileModel.create(cfg, weights, {
      batch: 4,
      side: S,
      outputs: ['patches', 'cls'],
      threads: 1,
      providers: ['dml'],
      warn: () => undefined,
    });
    expect([cpu.dynamicBatch, gpu.dynamicBatch]).toEqual([true, false]);
    for (const m of [cpu, gpu]) {
      const got = await m.run(images, 3);
      expect(got.patches.length).toBe(3 * 16 * cfg.dim);
      expect(got.cls.length).toBe(3 * cfg.dim);
      for (const k of ['patches', 'cls']) {
        const w = Float32Array.from(want.flatMap((o) => [...o[k]]));
        let diff = 0;
        for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(got[k][i] - w[i]));
        expect(diff, `${k}, dynamic batch ${m.dynamicBatch}`).toBeLessThan(1e-5);
      }
      await expect(m.run(images, 5)).rejects.toThrow(/5 images for a batch of 4/);
      await m.release();
    }
  });

  it('keeps a session per size where a GPU provider is asked for', async () => {
    const cfg = tinyViT(1);
    const cache = new TileModelCache(cfg, initParams(cfg, 1), 2, { providers: ['dml'], warn: () => undefined });
    await cache.get({ batch: 1, height: 28, width: 42, outputs: ['patches'], threads: 1, anySize: true });
    await cache.get({ batch: 1, height: 42, width: 28, outputs: ['patches'], threads: 1, anySize: true });
    expect(cache.compiled).toBe(2);
    await cache.release();
  });
});
