// Type-checks each runtime on its own (VS Code's practice): a file that uses a Node or DOM type where its
// runtime lacks it fails here. core/common is checked with neither.
// core, electron and the root project (tests, bench, e2e, scripts) are project references built by one
// `tsc -b`: core is checked once, under its Node-only lib, and the others read its declarations instead of
// checking its sources again (they had each re-checked about 400 core files). The declarations and build
// info go to tmp/tsc/, so a second run re-checks only what changed.
import { runChecks } from './checks.mjs';

const bin = (name) => `node_modules/.bin/${name}`;
const failed = await runChecks('typecheck', [
  [bin('tsc'), ['-b', 'tsconfig.json']],
  [bin('svelte-check'), ['--tsconfig', 'renderer/tsconfig.json', '--fail-on-warnings', '--output', 'human']],
  [bin('tsc'), ['-p', 'core/common/tsconfig.json']],
]);
process.exit(failed ? 1 : 0);
