// Lint: eslint (correctness, the core folder order) and prettier (formatting), side by side.
import { runChecks } from './checks.mjs';

const bin = (name) => `node_modules/.bin/${name}`;
const failed = await runChecks('lint', [
  [bin('eslint'), ['.']],
  [bin('prettier'), ['--check', '.', '--log-level', 'warn']],
]);
process.exit(failed ? 1 : 0);
