// Writes scripts/test-durations.json, the per-file durations the test sequencer (scripts/test-sequencer.ts)
// orders a clean clone's run by, from vitest JSON reports of full runs (unit and e2e):
//   npx vitest run --reporter=json --outputFile=/tmp/unit.json
//   npx vitest run --config e2e/vitest.config.ts --reporter=json --outputFile=/tmp/e2e.json
//   node scripts/test-durations.mjs /tmp/unit.json /tmp/e2e.json
// Only files of 2 s or more are kept (the others' order hardly matters), rounded to 0.1 s.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const reports = process.argv.slice(2);
if (!reports.length) {
  process.stderr.write('usage: node scripts/test-durations.mjs REPORT.json… (vitest --reporter=json output)\n');
  process.exit(2);
}
const ms = {};
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const r of report.testResults ?? []) {
    const d = r.endTime - r.startTime;
    if (Number.isFinite(d) && d >= 2000) ms[relative(root, r.name)] = Math.round(d / 100) * 100;
  }
}
const sorted = Object.fromEntries(Object.entries(ms).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
const out = resolve(root, 'scripts/test-durations.json');
writeFileSync(`${out}.tmp`, JSON.stringify(sorted, null, 2) + '\n');
renameSync(`${out}.tmp`, out);
process.stderr.write(`${Object.keys(sorted).length} files of 2 s or more → scripts/test-durations.json\n`);
