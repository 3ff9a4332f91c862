// The one-pass budget rule: attention memory heads × N² × 4 × 2 under a cap, grid side under a maximum,
// and the per-run choice (auto = whole iff every image fits; whole refuses naming the file and grid).
import { describe, expect, it } from 'vitest';
import { chooseContext, DEFAULT_ONE_PASS, onePassBytes, onePassRefusal, onePassTokens } from './context.js';

const vitS = { heads: 6, registers: 4 }; // ViT-S with 4 registers
const vitB = { heads: 12, registers: 4 };

describe('one-pass budget', () => {
  it('counts patches, CLS and registers, and scores plus softmax in float32', () => {
    expect(onePassTokens(4, 36, 27)).toBe(36 * 27 + 5);
    expect(onePassBytes(6, 4, 64, 64)).toBe(6 * 4101 ** 2 * 8); // ≈ 770 MiB
    expect(onePassBytes(1, 0, 1, 1)).toBe(2 ** 2 * 8);
  });

  it('ViT-S fits up to the 64-patch side under the default 1 GiB; ViT-B at 64 × 64 needs more than the cap', () => {
    expect(onePassRefusal(vitS, 64, 64, DEFAULT_ONE_PASS)).toBeNull();
    expect(onePassRefusal(vitS, 65, 10, DEFAULT_ONE_PASS)).toMatch(/65 × 10 patch grid is wider than the 64 patches/);
    expect(onePassRefusal(vitB, 64, 64, DEFAULT_ONE_PASS)).toMatch(/needs 1540 MiB of attention memory \(cap 1024 MiB\)/);
    expect(onePassRefusal(vitB, 48, 48, DEFAULT_ONE_PASS)).toBeNull(); // 12 · 2309² · 8 ≈ 488 MiB
  });

  it('the cap and the side are overridable', () => {
    expect(onePassRefusal(vitS, 200, 100, { maxBytes: 2 ** 40, maxSide: 256 })).toBeNull();
    expect(onePassRefusal(vitS, 10, 10, { maxBytes: 1000, maxSide: 64 })).toMatch(/needs 1 MiB of attention memory \(cap 0 MiB\)/);
  });
});

describe('chooseContext', () => {
  const small = { file: '/a/small.png', gridWidth: 36, gridHeight: 27 };
  const big = { file: '/a/big.tif', gridWidth: 7142, gridHeight: 7142 };

  it('auto: whole when every image fits, tiled for all when one does not', () => {
    expect(chooseContext('auto', vitS, [small, small], DEFAULT_ONE_PASS).context).toBe('whole');
    const c = chooseContext('auto', vitS, [small, big], DEFAULT_ONE_PASS);
    expect(c.context).toBe('tiled');
    expect(c.reason).toMatch(/\/a\/big\.tif: its 7142 × 7142 patch grid/);
  });

  it('whole refuses an image that does not fit (BAD_INPUT naming the file and its grid); tiled is taken as asked', () => {
    expect(() => chooseContext('whole', vitS, [small, big], DEFAULT_ONE_PASS)).toThrow(
      /^\/a\/big\.tif: cannot extract with whole-image context: its 7142 × 7142 patch grid/,
    );
    let refused: unknown = null;
    try {
      chooseContext('whole', vitS, [big], DEFAULT_ONE_PASS);
    } catch (e) {
      refused = e;
    }
    expect(refused).toMatchObject({ code: 'BAD_INPUT' });
    expect(chooseContext('whole', vitS, [small], DEFAULT_ONE_PASS).context).toBe('whole');
    expect(chooseContext('tiled', vitS, [small], DEFAULT_ONE_PASS).context).toBe('tiled');
  });

  it('auto keeps a tiled feature set tiled, and lets a one-pass set stay one-pass when the new images fit', () => {
    const c = chooseContext('auto', vitS, [small], DEFAULT_ONE_PASS, 'tiled');
    expect(c.context).toBe('tiled');
    expect(c.reason).toMatch(/earlier images/);
    expect(chooseContext('auto', vitS, [small], DEFAULT_ONE_PASS, 'whole').context).toBe('whole');
    expect(chooseContext('whole', vitS, [small], DEFAULT_ONE_PASS, 'tiled').context).toBe('whole');
  });
});
