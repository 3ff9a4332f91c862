// Builds what the browser e2e runs: the CLI (it hosts `serve`) and the renderer, from the current sources.
import { spawnSync } from 'node:child_process';

export function buildCliAndRenderer(): void {
  const r = spawnSync(process.execPath, ['scripts/build.mjs', 'cli', 'renderer'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs cli renderer failed with exit code ${r.status}`);
}
