// Lint: eslint (correctness, the core folder order) and prettier (formatting), two at a time.
// eslint runs as two processes, core/ and everything else, so that both lanes work: core/ is about 60 % of
// eslint's time, and the two halves together cost the CPU one `eslint .` did (measured: 41.6 + 25.8 vs 67
// CPU-s), so the longest lane is core/ alone instead of all of eslint.
// Prettier keeps a cache of the files it found formatted (node_modules/.cache/prettier, keyed by each file's
// content, prettier's version and options), so a second run formats only the files that changed. eslint has
// no such cache here: its typed rules (no-floating-promises) depend on other files than the one linted.
import { runChecks } from './checks.mjs';

const bin = (name) => `node_modules/.bin/${name}`;
const failed = await runChecks('lint', [
  [bin('eslint'), ['core']],
  [bin('prettier'), ['--check', '.', '--log-level', 'warn', '--cache', '--cache-strategy', 'content']],
  [bin('eslint'), ['.', '--ignore-pattern', 'core/**']],
]);
process.exit(failed ? 1 : 0);
