// Type-checks each runtime on its own (VS Code's practice): a file that uses a Node or DOM type where its
// runtime lacks it fails here. core/common is checked with neither.
import { runChecks } from './checks.mjs';

const bin = (name) => `node_modules/.bin/${name}`;
const failed = await runChecks('typecheck', [
  [bin('tsc'), ['-p', 'core/tsconfig.json']],
  [bin('tsc'), ['-p', 'tsconfig.json']],
  [bin('tsc'), ['-p', 'electron/tsconfig.json']],
  [bin('svelte-check'), ['--tsconfig', 'renderer/tsconfig.json', '--fail-on-warnings', '--output', 'human']],
  [bin('tsc'), ['-p', 'core/common/tsconfig.json']],
]);
process.exit(failed ? 1 : 0);
