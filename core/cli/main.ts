// `dinoscope <command> …`: the headless entry point over the same core the app uses.
import { DinoscopeError, FieldError, toEnvelope } from '../common/errors.js';
import { cliMessage } from './field-flags.js';
import type { CliIo, Command } from './command.js';
import { describeFsError } from '../io/fs-errors.js';
import { commands } from './registry.js';

function usage(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'usage: dinoscope <command> [options]',
    '',
    'commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'dinoscope <command> --help shows its options.',
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage(commands) + '\n');
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`dinoscope: unknown command '${name}'\n${usage(commands)}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const env = toEnvelope(err);
    const text =
      err instanceof FieldError
        ? cliMessage(err, new Set<string>(command.flags ?? []), command.fields)
        : (describeFsError(err) ?? env.message);
    io.stderr(`dinoscope ${name}: ${text}\n`);
    if (err instanceof DinoscopeError) return env.code === 'CANCELLED' ? 130 : err.code === 'INTERNAL' ? 1 : 2;
    if (process.env.DINOSCOPE_DEBUG && err instanceof Error) io.stderr(`${err.stack}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] && /(?:dinoscope(?:\.js)?|main\.js)$/.test(process.argv[1]);
if (isEntry) {
  const controller = new AbortController();
  let interrupts = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (++interrupts > 1) process.exit(130);
      process.stderr.write(`\ndinoscope: stopping (${sig}); press Ctrl-C again to quit at once\n`);
      controller.abort();
    });
  }
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    signal: controller.signal,
  };
  runCli(process.argv.slice(2), io).then(
    (code) => exitWhenIdle(code),
    (err: unknown) => {
      process.stderr.write(`dinoscope: ${String(err)}\n`);
      exitWhenIdle(1);
    },
  );
}

/** Seconds a finished command waits for what it left running before the process exits anyway. */
export const LINGER_SECONDS = 3;

/**
 * The command has finished: the process exits as soon as nothing else is pending, and at the latest after
 * LINGER_SECONDS, so that a worker thread or handle some failure path forgot to close cannot keep a
 * finished command (or one that failed) running forever. The line it prints then is a bug report.
 */
function exitWhenIdle(code: number): void {
  process.exitCode = code;
  const timer = setTimeout(() => {
    process.stderr.write(
      `dinoscope: work was still pending ${LINGER_SECONDS} s after the command ended; exiting (this is a bug, please report it).\n`,
    );
    process.exit(code);
  }, LINGER_SECONDS * 1000);
  timer.unref(); // keeps nothing alive by itself: a clean run exits at once
}
