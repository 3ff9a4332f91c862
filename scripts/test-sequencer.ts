// Vitest's file order, for the unit and the e2e runs: the longest files first, so that on 2 workers the run
// does not end with one long file running alone while the other worker idles. A file's duration is the one
// vitest cached from the last run on this machine (node_modules/.vite), else the one in
// scripts/test-durations.json (a measured run, for a clean clone and CI), else unknown: unknown files run
// after the known ones, largest first. Files that failed in the last run still go first (vitest's default).
// Refresh the table from a full run's JSON report: `node scripts/test-durations.mjs REPORT.json…`.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Milliseconds per test file (repository-relative path), from a measured run. */
const measured = JSON.parse(readFileSync(new URL('./test-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const cache = this.ctx.cache;
    const known = (spec: TestSpecification): { failed: boolean; ms: number | null; size: number } => {
      const path = relative(root, spec.moduleId);
      const key = `${spec.project.name}:${path}`;
      const last = cache.getFileTestResults(key);
      return {
        failed: last?.failed ?? false,
        ms: last?.duration ?? measured[path] ?? null,
        size: cache.getFileStats(key)?.size ?? 0,
      };
    };
    const info = new Map(files.map((f) => [f, known(f)]));
    return [...files].sort((a, b) => {
      const [x, y] = [info.get(a)!, info.get(b)!];
      if (x.failed !== y.failed) return x.failed ? -1 : 1;
      if (x.ms !== null && y.ms !== null) return y.ms - x.ms;
      if (x.ms !== null || y.ms !== null) return x.ms !== null ? -1 : 1;
      return y.size - x.size;
    });
  }
}
