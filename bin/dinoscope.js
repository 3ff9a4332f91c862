#!/usr/bin/env node
// The `dinoscope` CLI. The TypeScript sources are bundled into dist/ by `npm run build` (run by
// `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('dinoscope: dist/cli/main.js is missing; run `npm run build` in the Dinoscope folder first.\n');
  process.exit(1);
}
await import(entry.href);
