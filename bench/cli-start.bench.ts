// `npm run bench -- cli-start`: what one `dinoscope` process costs before it does its work. Every test that
// runs the CLI, and every user command, pays it. Spawns the built CLI (dist/cli, `npm run build` first)
// CLI_START_ROUNDS times (default 10) for each of: `--help`, an unknown command (exit 2), `extract` with a
// bad flag (exit 2) and `info` of a small tiled TIFF, and reads each process's CPU time (user + sys) from
// this process's reaped-children counters in /proc (Linux; 10 ms ticks, hence the rounds).
// Last line: `cli_start_ms <mean CPU ms of one --help>`.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePyramidalTiff } from '../core/data/fixtures/pyramidal-tiff.js';
import { machineInfo } from './lib/machine.js';
import { median } from './lib/stats.js';

const ROUNDS = Number(process.env.CLI_START_ROUNDS ?? 10);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'dinoscope.js');

/** CPU seconds of this process's reaped children (cutime + cstime of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // clock ticks of 10 ms
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-cli-start-bench-'));
try {
  const tiff = join(dir, 'slide.tif');
  await writePyramidalTiff(tiff, { width: 1024, height: 768 });
  process.stderr.write(`${JSON.stringify(machineInfo())}\n`);
  const cases: [string, string[], number][] = [
    ['--help', ['--help'], 0],
    ['unknown command', ['nonsense'], 2],
    ['extract bad flag', ['extract', '--nonsense'], 2],
    ['info tiled TIFF', ['info', tiff], 0],
  ];
  let helpMs = NaN;
  for (const [label, args, expected] of cases) {
    const walls: number[] = [];
    const before = childrenCpuSeconds();
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const res = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      walls.push(performance.now() - t);
      if (res.status !== expected) throw new Error(`dinoscope ${args.join(' ')} exited ${res.status}, not ${expected}:\n${res.stderr}`);
    }
    const cpuMs = ((childrenCpuSeconds() - before) * 1000) / ROUNDS;
    if (label === '--help') helpMs = cpuMs;
    process.stderr.write(`${label.padEnd(18)} cpu ${cpuMs.toFixed(0)} ms, wall median ${median(walls).toFixed(0)} ms (${ROUNDS} starts)\n`);
  }
  process.stdout.write(`cli_start_ms ${helpMs.toFixed(0)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
