// The test sequencer orders files longest first: by the durations vitest cached on this machine, else by the
// measured table (scripts/test-durations.json), unknown files after, failed files of the last run before all.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import LongestFirst from './test-sequencer.js';

const root = resolve(import.meta.dirname, '..');
const table = JSON.parse(readFileSync(resolve(root, 'scripts/test-durations.json'), 'utf8')) as Record<string, number>;

/** A vitest context with only what the sequencer reads: the root and the results cache. */
function sequencer(last: Record<string, { duration: number; failed: boolean }>, sizes: Record<string, number> = {}): LongestFirst {
  const ctx = {
    config: { root },
    cache: {
      getFileTestResults: (key: string) => last[key.replace(/^:/, '')],
      getFileStats: (key: string) => (key.replace(/^:/, '') in sizes ? { size: sizes[key.replace(/^:/, '')] } : undefined),
    },
  } as unknown as Vitest;
  return new LongestFirst(ctx);
}
const spec = (path: string): TestSpecification =>
  ({ moduleId: resolve(root, path), project: { name: '' } }) as unknown as TestSpecification;
const order = async (s: LongestFirst, paths: string[]): Promise<string[]> =>
  (await s.sort(paths.map(spec))).map((f) => f.moduleId.slice(root.length + 1));

describe('test sequencer', () => {
  it('on a clean clone, the table orders the files it knows longest first, before the unknown ones (largest first)', async () => {
    const known = Object.entries(table)
      .sort(([, a], [, b]) => b - a)
      .map(([p]) => p);
    expect(known.length).toBeGreaterThanOrEqual(10);
    const [a, b, c] = [known[0], known[Math.floor(known.length / 2)], known[known.length - 1]];
    const s = sequencer({}, { 'x/small.test.ts': 10, 'x/large.test.ts': 900 });
    expect(await order(s, ['x/small.test.ts', c, 'x/large.test.ts', b, a])).toEqual([a, b, c, 'x/large.test.ts', 'x/small.test.ts']);
  });

  it("this machine's last run overrides the table, and its failed files go first", async () => {
    const [a, b] = Object.keys(table);
    const s = sequencer({ [b]: { duration: 10 * table[a], failed: false }, 'x/f.test.ts': { duration: 1, failed: true } });
    expect(await order(s, [a, b, 'x/f.test.ts', 'x/new.test.ts'])).toEqual(['x/f.test.ts', b, a, 'x/new.test.ts']);
  });
});
