import { describe, expect, it } from 'vitest';
import { alternate } from './alternate.js';
import { BenchChild } from './child.js';
import { peakRssBytes } from './rss.js';
import { median, quantile } from './stats.js';

describe('stats', () => {
  it('medians and quantiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(() => median([])).toThrow(/no values/);
  });
});

// A real child speaking the JSON-lines protocol: answers "round" with a fixed time, quits on "quit".
const childSrc = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const ms = Number(process.argv[1]);
process.stdout.write(JSON.stringify({ ready: true }) + '\\n');
rl.on('line', (l) => {
  if (l === 'round') process.stdout.write(JSON.stringify({ ms }) + '\\n');
  else if (l === 'quit') process.exit(0);
  else process.stdout.write(JSON.stringify({ error: 'unknown ' + l }) + '\\n');
});`;

describe('alternate', () => {
  it('runs children round by round and reads their peak RSS', async () => {
    const a = new BenchChild('a', process.execPath, ['-e', childSrc, '5']);
    const b = new BenchChild('b', process.execPath, ['-e', childSrc, '7']);
    try {
      expect((await a.next()).ready).toBe(true);
      expect((await b.next()).ready).toBe(true);
      const res = await alternate([a, b], 3, 1);
      expect(res.ms).toEqual({ a: [5, 5, 5], b: [7, 7, 7] });
      expect(res.peakRss.a).toBeGreaterThan(1e6);
      await expect(a.ask('bogus')).rejects.toThrow(/unknown bogus/);
    } finally {
      await a.close();
      await b.close();
    }
    expect(peakRssBytes(a.pid)).toBeNull();
  });
});
