// One CLI subcommand per file under commands/, registered explicitly in main.ts.
// Progress goes to stderr, results to stdout (JSON where a program would read it); bad input exits 2.
import { DinoscopeError } from '../common/errors.js';

export interface CliIo {
  /** Results: what a program would read. */
  stdout(text: string): void;
  /** Progress and diagnostics for a person. */
  stderr(text: string): void;
  /** Aborted on SIGINT/SIGTERM: long work stops at its next checkpoint. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The flags it accepts (without --): a core error about a field these set is printed with the flag. */
  flags?: readonly string[];
  /** Its fields whose flag is not their kebab-case name (core/cli/field-flags.ts), e.g. { name: 'run' }. */
  fields?: Readonly<Record<string, string>>;
  /** Resolves to the exit code. Throw DinoscopeError('BAD_INPUT', …) for bad input (exit 2). */
  run(argv: string[], io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** `--name value`, `--name=value` and bare `--flag`; `booleans` lists the flags that take no value. */
export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const name = a.slice(2);
        if (booleans.includes(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(name, true);
        else flags.set(name, argv[++i]);
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

/** BAD_INPUT naming the first flag that `known` does not list. */
export function checkFlags(flags: ParsedArgs['flags'], known: readonly string[], command: string): void {
  for (const k of flags.keys())
    if (!known.includes(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope ${command} --help).`);
}

/** The value of `--name value`; BAD_INPUT when the flag is given bare. */
export function flagValue(flags: ParsedArgs['flags'], name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new DinoscopeError('BAD_INPUT', `--${name} needs a value.`);
  return v;
}

/** A numeric flag: an integer when `integer`, and > 0 when `positive`; BAD_INPUT naming the flag otherwise. */
export function flagNumber(flags: ParsedArgs['flags'], name: string, integer: boolean, positive = false): number | undefined {
  const v = flagValue(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || (positive && n <= 0)) {
    throw new DinoscopeError(
      'BAD_INPUT',
      `--${name} must be ${positive ? 'a positive ' : integer ? 'an ' : 'a '}${integer ? 'integer' : 'number'}, got "${v}".`,
    );
  }
  return n;
}
