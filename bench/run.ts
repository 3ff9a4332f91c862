// `npm run bench -- NAME`: runs bench/NAME.ts. Each benchmark prints its ratio against the reference it
// names as its last line.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
if (!name || !existsSync(join(here, `${name}.bench.ts`))) {
  process.stderr.write(`usage: npm run bench -- NAME   (one of: ${available.join(', ') || 'none yet'})\n`);
  process.exit(2);
}
await import(pathToFileURL(join(here, `${name}.bench.ts`)).href);
