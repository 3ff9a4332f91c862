// Errors cross every transport (IPC, HTTP, worker messages) as one envelope, never as thrown objects.

export type ErrorCode =
  | 'BAD_INPUT' // the caller's input is wrong (CLI exit 2)
  | 'NOT_FOUND'
  | 'UNSUPPORTED' // a file format or feature we do not handle
  | 'CORRUPT' // a file that claims a format but is damaged or truncated
  | 'TOO_LARGE' // a file that declares dimensions we refuse to allocate
  | 'FORBIDDEN' // a path outside what the caller may read, a missing token, a foreign origin
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorEnvelope {
  name: string;
  message: string;
  code: ErrorCode;
}

/** An error we expect and can explain to the user; `message` is a full sentence naming the file and the problem. */
export class DinoscopeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'DinoscopeError';
    this.code = code;
  }
}

export function toEnvelope(err: unknown): ErrorEnvelope {
  if (err instanceof DinoscopeError) return { name: err.name, message: err.message, code: err.code };
  if (err instanceof Error) return { name: err.name, message: err.message, code: 'INTERNAL' };
  return { name: 'Error', message: String(err), code: 'INTERNAL' };
}

export function fromEnvelope(env: ErrorEnvelope): DinoscopeError {
  const e = new DinoscopeError(env.code, env.message);
  e.name = env.name;
  return e;
}

export function isErrorEnvelope(v: unknown): v is ErrorEnvelope {
  return (
    typeof v === 'object' && v !== null && typeof (v as ErrorEnvelope).message === 'string' && typeof (v as ErrorEnvelope).code === 'string'
  );
}

/**
 * BAD_INPUT about one field: an API argument, an option or a config key, named by its path in the value
 * (`k`, `points[0].x`, `crops.localSize`). The message reads "field: problem" (after `where`, e.g. the file
 * it concerns). `problem` may name other fields as `{name}` (a literal `{` is written `{{`). Hosts that call fields something else re-word
 * the error with `worded` (the CLI names its flags); `message` names the fields as they are.
 */
export class FieldError extends DinoscopeError {
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly where = '',
  ) {
    super('BAD_INPUT', '');
    this.message = this.worded((f) => f);
  }

  /** The message with every field (its own and each `{name}` in the problem) as `name(field)` words it. */
  worded(name: (field: string) => string): string {
    const problem = this.problem.replace(/\{\{|\{([A-Za-z0-9_.[\]]+)\}/g, (_match, f: string | undefined) =>
      f === undefined ? '{' : name(f),
    );
    return `${this.where ? `${this.where}: ` : ''}${this.field ? `${name(this.field)}: ` : ''}${problem}`;
  }
}
