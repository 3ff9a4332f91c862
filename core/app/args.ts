// Argument checks for API calls: the HTTP and IPC transports deliver untyped JSON, so every method checks
// its arguments and answers BAD_INPUT with a sentence naming the argument.
import { isAbsolute } from 'node:path';
import { DinoscopeError } from '../common/errors.js';

export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new DinoscopeError('BAD_INPUT', `${what} must be a non-empty string.`);
  if (value.includes('\0')) throw new DinoscopeError('BAD_INPUT', `${what} must not contain NUL characters.`);
  return value;
}

export function requireAbsolutePath(value: unknown, what: string): string {
  const s = requireString(value, what);
  if (!isAbsolute(s)) throw new DinoscopeError('BAD_INPUT', `${what} must be an absolute path (got "${s}").`);
  return s;
}

export function requireStringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new DinoscopeError('BAD_INPUT', `${what} must be an array of paths.`);
  return value.map((v, i) => requireAbsolutePath(v, `${what}[${i}]`));
}

export function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, what);
}
