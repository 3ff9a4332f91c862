// Type-checks each runtime on its own (VS Code's practice): a file that uses a Node or DOM type where its
// runtime lacks it fails here. core/common is checked with neither.
import { spawnSync } from 'node:child_process';

const bin = (name) => `node_modules/.bin/${name}`;
const checks = [
  [bin('tsc'), ['-p', 'core/common/tsconfig.json']],
  [bin('tsc'), ['-p', 'core/tsconfig.json']],
  [bin('tsc'), ['-p', 'electron/tsconfig.json']],
  [bin('tsc'), ['-p', 'tsconfig.json']],
  [bin('svelte-check'), ['--tsconfig', 'renderer/tsconfig.json', '--fail-on-warnings', '--output', 'human']],
];
let failed = 0;
for (const [cmd, args] of checks) {
  const label = `${cmd.split('/').pop()} ${args.join(' ')}`;
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const ok = r.status === 0;
  if (!ok) failed++;
  process.stderr.write(`typecheck: ${ok ? 'ok  ' : 'FAIL'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
process.exit(failed ? 1 : 0);
