// The one call path of the API contract: every transport (Electron IPC, the serve host's HTTP, a child
// process hosting the service) hands an untyped (method, args) pair here, so a bad call is refused the same
// way, with the same words, whichever way it came in.
import { isApiMethod, type AppInfo, type DinoscopeApi, type Role } from '../common/api.js';
import { apiSchemas, roleMayCall } from '../common/api-schema.js';
import { DinoscopeError, FieldError } from '../common/errors.js';

/**
 * Calls `service[method](...args)` for a method of the contract, after checking the arguments against the
 * method's schema (core/common/api-schema.ts). Throws DinoscopeError NOT_FOUND for a name that is not a
 * method of the contract (prototype names included), and BAD_INPUT (a FieldError naming the field, e.g.
 * "k: must be an integer from 2 to 64, got 1.5.") for arguments that do not fit. The service receives the
 * checked arguments, frozen. Resolves to the method's result, with `undefined` as null so every transport
 * sends a value.
 *
 * `role`: who calls, where the transport knows (the serve host, from the token). A viewer calling a method
 * marked 'write' in apiAccess is refused with FORBIDDEN before its arguments are looked at; appInfo tells
 * the caller its role so the UI can hide what it may not do. Without a role (the desktop app) every method
 * is open and appInfo is unchanged.
 */
export async function dispatch(service: DinoscopeApi, method: unknown, args: unknown, role?: Role): Promise<unknown> {
  if (!isApiMethod(method)) throw new DinoscopeError('NOT_FOUND', `${JSON.stringify(method) ?? String(method)} is not an API method.`);
  if (role !== undefined && !roleMayCall(role, method))
    throw new DinoscopeError(
      'FORBIDDEN',
      `${method} changes the project or the host, and this link is the read-only viewer's: ask whoever runs dinoscope serve for the editor link.`,
    );
  if (!Array.isArray(args)) throw new DinoscopeError('BAD_INPUT', `The arguments of ${method} must be an array.`);
  let checked: unknown[];
  try {
    checked = apiSchemas[method].parse(args);
  } catch (err) {
    // An error about the argument list as a whole names the method instead of a field.
    if (err instanceof FieldError && err.field === '') throw new FieldError('', err.problem, method);
    throw err;
  }
  const fn = service[method] as (...a: unknown[]) => Promise<unknown>;
  const result: unknown = await fn.apply(service, checked);
  if (method === 'appInfo' && role !== undefined) return { ...(result as AppInfo), role };
  return result === undefined ? null : result;
}
