// Runs independent checks (commands) two at a time — each of tsc, svelte-check, eslint and prettier is
// mostly single-threaded — and prints each check's output whole when it ends, so reports never interleave.
// Resolves to the number of checks that failed.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

function run(name, [cmd, args]) {
  const label = `${cmd.split('/').pop()} ${args.join(' ')}`;
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    const out = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => out.push(b));
    child.on('error', (e) => out.push(Buffer.from(`${e.message}\n`)));
    child.on('close', (code) => {
      const ok = code === 0;
      process.stdout.write(Buffer.concat(out));
      process.stderr.write(`${name}: ${ok ? 'ok  ' : 'FAIL'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      done(ok);
    });
  });
}

/** `checks`: [command, args] pairs, longest first (they start in this order). */
export async function runChecks(name, checks) {
  const queue = [...checks];
  let failed = 0;
  const lane = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) if (!(await run(name, c))) failed++;
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, lane));
  return failed;
}
