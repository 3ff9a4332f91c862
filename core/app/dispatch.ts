// The one call path of the API contract: every transport (Electron IPC, the serve host's HTTP, a child
// process hosting the service) hands an untyped (method, args) pair here, so a bad call is refused the same
// way, with the same words, whichever way it came in.
import { isApiMethod, type DinoscopeApi } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';

/**
 * Calls `service[method](...args)` for a method of the contract. Throws DinoscopeError NOT_FOUND for a name
 * that is not a method of the contract (prototype names included) and BAD_INPUT for arguments that are not
 * an array. Resolves to the method's result, with `undefined` as null so every transport sends a value.
 */
export async function dispatch(service: DinoscopeApi, method: unknown, args: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new DinoscopeError('NOT_FOUND', `${JSON.stringify(method) ?? String(method)} is not an API method.`);
  if (!Array.isArray(args)) throw new DinoscopeError('BAD_INPUT', `The arguments of ${method} must be an array.`);
  const fn = service[method] as (...a: unknown[]) => Promise<unknown>;
  const result: unknown = await fn.apply(service, args);
  return result === undefined ? null : result;
}
