// The memory estimate against onnxruntime's real peak: a tiny ViT's student forward+backward at two sizes
// (and with attention rematerialised), peak RSS growth per run in a fresh process, estimate within a factor.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { vitConfig } from '../../model/config.js';
import { estimatePeakMemory, formatMemory } from './memory.js';
import { probeConfig } from './memory-probe.js';
import { REFERENCE_SIZES } from './sizes.js';

const FACTOR = 2;
const probe = join(dirname(fileURLToPath(import.meta.url)), 'memory-probe.ts');

/** Peak RSS growth of one tiny-ViT forward+backward, measured in a fresh process. */
function measure(side: number, images: number, remat: boolean): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', probe, String(side), String(images), String(remat)], {
    encoding: 'utf8',
    timeout: 100_000,
  });
  if (r.status !== 0) throw new Error(`memory-probe failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { measured: number }).measured;
}

describe('estimatePeakMemory', () => {
  it('grows with the crop sides, shrinks with remat, and formats', () => {
    const c = vitConfig('small', { arch: 'dinov3' });
    const opts = { batch: 2, localCrops: 8, remat: false };
    const small = estimatePeakMemory(c, REFERENCE_SIZES[0], opts);
    const big = estimatePeakMemory(c, REFERENCE_SIZES[4], opts);
    const rematBig = estimatePeakMemory(c, REFERENCE_SIZES[4], { ...opts, remat: true });
    expect(big.totalBytes).toBeGreaterThan(small.totalBytes);
    expect(rematBig.activationBytes).toBeLessThan(big.activationBytes / 2);
    expect(small.paramsBytes).toBeGreaterThan(0);
    expect(formatMemory(1.5 * 1024 ** 3)).toBe('this needs ~1.5 GB');
    expect(formatMemory(23.4 * 1024 ** 3)).toBe('this needs ~23 GB');
    expect(formatMemory(300 * 1024 ** 2)).toBe('this needs ~300 MB');
    process.stderr.write(
      `[memory] ViT-S/16 v3 batch 2 + 8 locals: ${REFERENCE_SIZES[0].global}/${REFERENCE_SIZES[0].gram} ${formatMemory(small.totalBytes)}; ` +
        `768/336/1152 ${formatMemory(big.totalBytes)}, with remat ${formatMemory(rematBig.totalBytes)}\n`,
    );
  });

  it(`is within ${FACTOR}× of the measured peak RSS growth of a tiny ViT forward+backward at two sizes`, async () => {
    const c = probeConfig();
    const batch = 4; // 2·batch global crops
    const runs: [number, boolean][] = [
      [128, false],
      [256, true],
      [256, false],
    ];
    for (const [side, remat] of runs) {
      const measured = measure(side, 2 * batch, remat);
      const est = estimatePeakMemory(
        c,
        { global: side, local: 16, gram: side },
        { batch, localCrops: 0, remat, training: false },
      ).totalBytes;
      const ratio = est / measured;
      process.stderr.write(
        `[memory] tiny ViT ${side}px remat=${remat}: measured ${(measured / 2 ** 20).toFixed(0)} MB, estimated ${(est / 2 ** 20).toFixed(0)} MB (×${ratio.toFixed(2)})\n`,
      );
      expect(ratio).toBeGreaterThan(1 / FACTOR);
      expect(ratio).toBeLessThan(FACTOR);
    }
  }, 120_000);
});
