// Vitest global setup: builds the CLI bundle (dist/cli: the CLI and its worker entries) once, before any
// test file runs, for the tests that start `node bin/dinoscope.js` or the bundled workers as a user's
// machine would. One build per run, instead of one per test file racing the CLIs other files started.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, ['scripts/build.mjs', 'cli'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs cli failed (exit ${r.status}):\n${r.stderr}`);
}
