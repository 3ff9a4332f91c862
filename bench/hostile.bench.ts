// `npm run bench -- hostile`: the hostile corpus (core/data/fixtures/hostile.ts: quadratic metadata,
// shared tag values, lying JPEG frames, oversized and sparse tiles, huge descriptions, absurd mpp, a 256×
// pyramid gap, a 50000² PNG, truncated / looping / out-of-range files) through the built CLI:
// `dinoscope info` and `dinoscope import` per file, each under /usr/bin/time. A file is clean when both
// exit 0 or 2 within 30 s and 1 GB peak RSS and the outcome is the expected one (refused files refused
// and reported failed, the others imported as ok). Prints one line per file on stderr; the last line is
// `hostile clean K of N max_rss_mb M max_s S` (M and S: the worst of all commands).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHostileCorpus } from '../core/data/fixtures/hostile.js';
import { hostileWorkDir, runHostileCase } from '../core/data/fixtures/hostile-cli.js';
import { fmtMachine } from './lib/machine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string): void => void process.stderr.write(line + '\n');

const build = spawnSync(process.execPath, ['scripts/build.mjs', 'cli'], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) {
  log(`hostile: building the CLI failed:\n${build.stderr}`);
  process.exit(1);
}
const corpus = mkdtempSync(join(tmpdir(), 'dinoscope-hostile-bench-'));
const work = hostileWorkDir();
try {
  log(`hostile: ${fmtMachine()}`);
  const cases = await writeHostileCorpus(corpus);
  let clean = 0;
  let maxRss = 0;
  let maxS = 0;
  for (const c of cases) {
    const r = await runHostileCase(root, corpus, work, c);
    if (!r.problem) clean++;
    maxRss = Math.max(maxRss, r.info.maxRssMb, r.import.maxRssMb);
    maxS = Math.max(maxS, r.info.seconds, r.import.seconds);
    log(
      `${c.name.padEnd(32)} info exit ${r.info.status} ${r.info.seconds.toFixed(1)} s ${r.info.maxRssMb.toFixed(0)} MB | import ${String(r.importStatus).padEnd(11)} ${r.import.seconds.toFixed(1)} s ${r.import.maxRssMb.toFixed(0)} MB | ${r.problem ?? 'clean'}`,
    );
  }
  process.stdout.write(`hostile clean ${clean} of ${cases.length} max_rss_mb ${maxRss.toFixed(0)} max_s ${maxS.toFixed(1)}\n`);
} finally {
  rmSync(corpus, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
